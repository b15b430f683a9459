"""Numbers, percentages and dates formatted for the reader's locale (Babel)."""

from __future__ import annotations

import datetime as _dt
import math

from cin_ml.glossary._terms import _check_lang

LOCALES = {"fr": "fr_CA", "en": "en_CA"}
"""Babel locale of each page language."""

MISSING = "—"
_NBSP = "\u00a0"


def _missing(x: object) -> bool:
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def fmt_number(x: float | None, lang: str, digits: int = 2, *, grouping: bool = True) -> str:
    """``x`` with exactly ``digits`` decimals in ``lang``'s locale (``0,976`` in French,
    ``0.976`` in English; thousands grouped); ``—`` when missing."""
    from babel.numbers import format_decimal

    _check_lang(lang)
    if _missing(x):
        return MISSING
    fmt = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(float(x), format=fmt, locale=LOCALES[lang])


def fmt_int(n: float | None, lang: str) -> str:
    """A whole number with the locale's thousands separator (``3 233`` / ``3,233``)."""
    if _missing(n):
        return MISSING
    return fmt_number(round(float(n)), lang, 0)


def fmt_percent(x: float | None, lang: str, digits: int = 0) -> str:
    """A share (0-1) as a percentage: ``30 %`` in French (non-breaking space), ``30%`` in
    English; ``—`` when missing."""
    if _missing(x):
        return MISSING
    v = fmt_number(100 * float(x), lang, digits)
    return f"{v}{_NBSP}%" if lang == "fr" else f"{v}%"


def fmt_date(d: _dt.date | _dt.datetime | str | None, lang: str, style: str = "long") -> str:
    """A date in ``lang`` (``30 novembre 2026`` / ``November 30, 2026`` for ``long``); an ISO
    string is parsed first; ``—`` when missing."""
    from babel.dates import format_date

    _check_lang(lang)
    if d is None or d == "":
        return MISSING
    if isinstance(d, str):
        try:
            d = _dt.datetime.fromisoformat(d.replace("Z", "+00:00"))
        except ValueError:
            return d
    if isinstance(d, _dt.datetime):
        d = d.date()
    return format_date(d, style, locale=LOCALES[lang])
