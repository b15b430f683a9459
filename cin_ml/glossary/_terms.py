"""The glossary's entries (``glossary.toml``) and the label look-ups."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from cin_ml.errors import ConfigError

LANGS = ("fr", "en")
_INTERSECTION = "×"


class GlossaryError(ConfigError):
    """A key the glossary does not hold, or a language it does not speak."""


def _flatten(node: dict, prefix: str, out: dict[str, dict[str, str]]) -> None:
    for k, v in node.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and not ({"fr", "en"} & set(v)):
            _flatten(v, key, out)
        elif isinstance(v, dict):
            out[key] = {lang: v.get(lang) for lang in v}
        else:
            raise GlossaryError(f"glossary.toml: entry '{key}' must be a table with fr and en")


@cache
def _entries() -> dict[str, dict[str, str]]:
    text = resources.files("cin_ml.glossary").joinpath("glossary.toml").read_text(
        encoding="utf-8")
    out: dict[str, dict[str, str]] = {}
    _flatten(tomllib.loads(text), "", out)
    return out


def glossary_keys() -> tuple[str, ...]:
    """Every key of the glossary (``"<section>.<code>"``), sorted."""
    return tuple(sorted(_entries()))


def has_label(key: str) -> bool:
    """Whether the glossary holds ``key``."""
    return key in _entries()


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise GlossaryError(f"[glossary] language must be one of fr, en; got '{lang}'")


def labels(key: str) -> dict[str, str]:
    """``{"fr": ..., "en": ...}`` of ``key``.

    Raises
    ------
    GlossaryError
        ``key`` is not in the glossary.
    """
    try:
        return dict(_entries()[key])
    except KeyError:
        raise GlossaryError(f"[glossary] no entry '{key}' in cin_ml/glossary/glossary.toml"
                            ) from None


def label(key: str, lang: str) -> str:
    """The reader's word for ``key`` (``"metric.fnr"``, ``"verdict.pass"``...) in ``lang``.

    Raises
    ------
    GlossaryError
        Unknown key or language, or the entry lacks ``lang``.
    """
    _check_lang(lang)
    text = labels(key).get(lang)
    if not text:
        raise GlossaryError(f"[glossary] entry '{key}' has no '{lang}' label")
    return text


def _norm_group(attribute: str, value: object) -> str:
    s = str(value).strip()
    if attribute == "intervention_plan" and s in ("0.0", "1.0", "False", "True"):
        s = {"0.0": "0", "1.0": "1", "False": "0", "True": "1"}[s]
    return s


def group_label(attribute: str, value: object, lang: str) -> str:
    """The reader's name of one group of an audited attribute (``"imse_band"``, ``"8-10"``).

    An intersection (``"sex × language_group"``, ``"F × allophone"``) is labelled part by
    part. A value the glossary does not know (a dataset spec's own groups) is shown as is.
    """
    _check_lang(lang)
    attrs = [a.strip() for a in attribute.split(_INTERSECTION)]
    values = [v.strip() for v in str(value).split(_INTERSECTION)]
    if len(attrs) != len(values):
        attrs = [attribute.strip()]
        values = [str(value).strip()]
    out = []
    for a, v in zip(attrs, values, strict=True):
        key = f"group.{a}.{_norm_group(a, v)}"
        out.append(label(key, lang) if has_label(key) else v)
    return f" {_INTERSECTION} ".join(out)


def attribute_label(name: str, lang: str) -> str:
    """Label of an audited attribute or an intersection (``"sex × language_group"``); a name
    the glossary does not know (a dataset spec's column) is shown as is."""
    _check_lang(lang)
    parts = []
    for p in (x.strip() for x in name.split(_INTERSECTION)):
        key = f"attribute.{p}"
        parts.append(label(key, lang) if has_label(key) else p)
    return f" {_INTERSECTION} ".join(parts)


def event_label(type_: str, lang: str) -> str:
    """The reader's name of a governance history event type (``"review"``,
    ``"promote.refused"``, ``"consent.flag"``): the glossary's ``event`` entry, else the
    action's word with its outcome (``"Promotion (refusé)"``); a type it does not know is
    shown as is."""
    _check_lang(lang)
    if has_label(f"event.{type_}"):
        return label(f"event.{type_}", lang)
    action, _, outcome = type_.rpartition(".")
    if has_label(f"event.{action}") and has_label(f"event_outcome.{outcome}"):
        return f"{label(f'event.{action}', lang)} ({label(f'event_outcome.{outcome}', lang)})"
    return type_
