"""The one bilingual glossary of cin-ml, and locale-correct number and date formatting.

Every page a reader sees (model cards, reports, explanation sheets, the virtual CSS report)
takes the French and English words for the project's codes from here: feature families and
name parts, audited attributes and their groups, metrics, verdicts, data forms, calibration
methods, run and review states, roles. The words live in ``glossary.toml`` (package data),
one entry per ``"<section>.<code>"`` key, each with ``fr`` and ``en``.

::

    label("metric.fnr", "fr")     # 'Taux de faux négatifs (élèves à risque non repérés)'
    group_label("imse_band", "8-10", "en")    # 'IMSE 8 to 10 (disadvantaged)'
    event_label("promote.refused", "fr")      # 'Promotion (refusé)'
    attribute_label("sex × language_group", "fr")
    fmt_number(0.9764, "fr", digits=3)        # '0,976'
    fmt_percent(0.3, "fr")                    # '30 %' (non-breaking space)
    fmt_int(3233, "en")                       # '3,233'

Numbers and dates go through Babel with the locales ``fr_CA`` and ``en_CA``. Missing values
(None, NaN) print as an em dash.
"""

from cin_ml.glossary._format import LOCALES, fmt_date, fmt_int, fmt_number, fmt_percent
from cin_ml.glossary._terms import (
    LANGS,
    GlossaryError,
    attribute_label,
    event_label,
    glossary_keys,
    group_label,
    has_label,
    label,
    labels,
)

__all__ = [
    "LANGS",
    "LOCALES",
    "GlossaryError",
    "attribute_label",
    "event_label",
    "fmt_date",
    "fmt_int",
    "fmt_number",
    "fmt_percent",
    "glossary_keys",
    "group_label",
    "has_label",
    "label",
    "labels",
]
