"""Virtual CSS: a privacy-preserving synthetic copy of a CSS's extract, by stage.

1. :mod:`.deidentification`: keyed pseudonyms and k-anonymity turn a source extract into
   its ``deidentified`` form;
2. :mod:`.synthesis`: SDV learns one row per student and the rows are re-expanded into the
   long contract tables (``sdv`` is imported there only);
3. :mod:`.evaluation`: fidelity, privacy and utility against policy, and the HTML report.

The source-side simulator lives in :mod:`cin_ml.simulator` and absence harmonization (a
feature step) in :mod:`cin_ml.features`; this package imports neither the simulator nor its
ground truth (docs/architecture.md). Every public name of the stages is re-exported here,
resolved lazily (PEP 562) so that importing this package loads no heavy library.
"""

from __future__ import annotations

from cin_ml._lazy import lazy_exports

_STAGES: dict[str, tuple[str, ...]] = {
    "deidentification": (
        "DEMO_KEY", "KEY_ENV_VAR", "REQUIRED_TABLES", "DeidentificationReport", "Deidentified",
        "DeidentifyConfig", "KAnonymity", "PseudonymKey", "deidentify", "measure_k_anonymity",
        "pseudonymize_truth", "pseudonymize_values", "resolve_pseudonym_key", "scrub_free_text",
        "free_text_columns"),
    "synthesis": (
        "SynthesisConfig", "VirtualCSS", "load_synthesizer", "sample_virtual_css",
        "student_table", "synthesize"),
    "evaluation": (
        "EvaluationConfig", "VirtualCSSReport", "dataset_digest", "evaluate_virtual_css",
        "REPORT_FILES", "render_report_html", "report_figures", "report_pages",
        "split_students"),
}

# name -> stage sub-package that exports it
_EXPORTS: dict[str, str] = {name: stage for stage, names in _STAGES.items() for name in names}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
