"""Scoring by role: what a school principal, a CSS direction and the ministry may see.

::

    settings = load_access_settings()                       # configs/access.toml
    cohort = score_cohort(bundle, tables, settings.bands)   # students due now, scored
    r = school_report(cohort, tables, "001001", settings.bands, explanations=...)
    r = css_report(cohort, tables, "CSS001", settings.bands, min_cell_size=5)
    r = ministry_report(cohort, tables, consenting, excluded, settings.bands,
                        min_cell_size=10)
    pages = render_pages(r, lang="fr")  # {"report.html": ..., "schools/001001.html": ...}

Aggregates use primary + complementary cell suppression (:func:`suppress`);
:func:`recover_by_subtraction` is the attacker that checks it (subtraction, published and
derived zeros, linear combinations across tables, whole groups in one band),
:func:`attack_tables` runs it on the published frames (:func:`published_cells`) and
:func:`scan_frames` is the last guard against identifiers. Pure: no mlflow, no file I/O
(``pipeline.run_predict`` wires it).
"""

from cin_ml.access._attack import Disclosure, attack_tables, published_cells
from cin_ml.access._html import render_pages, render_report
from cin_ml.access._reports import (
    RoleReport,
    css_report,
    ministry_report,
    results_records,
    school_report,
)
from cin_ml.access._scan import identifier_columns, identifier_values, scan_frames, scan_text
from cin_ml.access._score import (
    GROUPS,
    RISK_BANDS,
    ScoredCohort,
    explain_scored,
    risk_band,
    score_cohort,
)
from cin_ml.access._settings import ROLES, AccessSettings, load_access_settings
from cin_ml.access._suppress import (
    TOTAL,
    Cube,
    Suppression,
    build_cube,
    recover_by_subtraction,
    suppress,
)
from cin_ml.access._view import UNIT_DIRS

__all__ = [
    "GROUPS",
    "RISK_BANDS",
    "ROLES",
    "TOTAL",
    "UNIT_DIRS",
    "AccessSettings",
    "Cube",
    "Disclosure",
    "RoleReport",
    "ScoredCohort",
    "Suppression",
    "attack_tables",
    "build_cube",
    "css_report",
    "explain_scored",
    "identifier_columns",
    "identifier_values",
    "load_access_settings",
    "ministry_report",
    "published_cells",
    "recover_by_subtraction",
    "render_pages",
    "render_report",
    "results_records",
    "risk_band",
    "school_report",
    "scan_frames",
    "scan_text",
    "score_cohort",
    "suppress",
]
