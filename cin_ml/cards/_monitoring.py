"""Monitoring pages (``cin-ml monitor``): the report in French and English, and the card's
monitoring section (last report, the approval's conditions and their state).

Input is the JSON report (``cin_ml.monitoring.MonitoringReport.to_dict()``); wording lives
in ``templates/monitoring_strings.toml``, metric names in the glossary (``metric``,
``metric_short``), numbers are formatted by Babel for the language.
The card's own files are pinned by hash at registration, so the section is rendered beside
the card (in the report page and as its own fragment), never into the pinned card files.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from cin_ml.cards._labels import attribute_label, feature_label
from cin_ml.cards._words import metric_name
from cin_ml.glossary import fmt_int, fmt_number, fmt_percent

__all__ = ["render_monitoring_report", "render_monitoring_section"]

_OPS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


@cache
def _strings(lang: str) -> dict:
    text = resources.files("cin_ml.cards").joinpath(
        "templates/monitoring_strings.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)[lang]


def _fmt(lang: str):
    """The glossary's Babel formatters bound to ``lang``: number, percent, count."""

    def num(x, digits: int = 3):
        return fmt_number(x, lang, digits)

    def pct(x, digits: int = 1):
        return fmt_percent(x, lang, digits)

    def count(x):
        return fmt_int(x, lang)

    return num, pct, count


def _condition_text(c: dict, lang: str, s: dict, num) -> str:
    label = s["metrics"].get(c["metric"], c["metric"])
    if c.get("group"):
        label += " " + attribute_label(c["group"]).get(lang).lower()
    return f"{label} {_OPS.get(c['op'], c['op'])} {num(c['value'], 2)}"


def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("cin_ml.cards", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _context(report: dict, lang: str, model_ref: str) -> dict:
    if lang not in ("fr", "en"):
        raise ValueError(f"lang must be fr or en; got {lang!r}")
    s = _strings(lang)
    num, pct, count = _fmt(lang)
    year = report.get("cohort", {}).get("year")
    return {"r": report, "s": s, "lang": lang, "num": num, "pct": pct, "count": count,
            "model_ref": model_ref,
            "year": f"{year}{s['year_sep']}{int(year) + 1}" if year is not None else "—",
            "flabel": lambda f: feature_label(f).get(lang),
            "alabel": lambda a: attribute_label(a).get(lang),
            "ctext": lambda c: _condition_text(c, lang, s, num),
            "verdict": lambda v: s.get(f"verdict_{v}", v),
            "metric": lambda m: metric_name(m, lang),
            "fmetric": lambda m: metric_name(m, lang, short=True)}


def render_monitoring_report(report: dict, lang: str = "fr", model_ref: str = "") -> str:
    """The monitoring report as a self-contained HTML page in ``lang`` (``fr`` or ``en``)."""
    return _env().get_template("monitoring.html.j2").render(
        **_context(report, lang, model_ref), page=True)


def render_monitoring_section(report: dict, lang: str = "fr", model_ref: str = "") -> str:
    """The card's monitoring section (an HTML fragment): the last report's cohort, alarms
    count, estimate and the approval's conditions with their state."""
    return _env().get_template("monitoring.html.j2").render(
        **_context(report, lang, model_ref), page=False)
