"""Stage 3 of a virtual CSS: evaluate it and report.

Fidelity (``_fidelity``), privacy (``_privacy``) and utility (``_utility``, train on
virtual, test on real, for every task of :data:`cin_ml.tasks.TASKS`) with verdicts against
``[evaluate]`` of ``configs/virtual_css.toml`` (``_evaluate``), and the self-contained HTML
report (``_html``). Public names resolve lazily (PEP 562).
"""

from __future__ import annotations

from cin_ml._lazy import lazy_exports

# name -> private module that defines it
_EXPORTS: dict[str, str] = {
    "EvaluationConfig": "_evaluate",
    "VirtualCSSReport": "_evaluate",
    "dataset_digest": "_evaluate",
    "evaluate_virtual_css": "_evaluate",
    "split_students": "_evaluate",
    "utility_check": "_utility",
    "render_report_html": "_html",
    "report_figures": "_html",
    "report_pages": "_html",
    "REPORT_FILES": "_html",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
