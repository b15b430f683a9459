"""Virtual CSS: simulate a source extract, de-identify it, harmonize it, synthesize a virtual
copy with SDV, and evaluate its fidelity, privacy and utility.

Public names are resolved lazily (PEP 562) so that importing this package loads no heavy
library; ``sdv`` is imported only by the synthesis module.
"""

from __future__ import annotations

from cin_ml._lazy import lazy_exports

# name -> private module that defines it
_EXPORTS: dict[str, str] = {
    # simulate (source extract with ground truth)
    "Disparity": "_simulate",
    "GroundTruth": "_simulate",
    "Simulation": "_simulate",
    "SimulationConfig": "_simulate",
    "simulate": "_simulate",
    "write_simulation": "_simulate",
    "simulate_to_disk": "_simulate",
    "read_truth": "_simulate",
    # deidentify / synthesize / evaluate / harmonize: added by their modules' authors
    # harmonize (absence reasons -> network nomenclature)
    "Harmonization": "_harmonize",
    "HarmonizeSettings": "_harmonize",
    "harmonize_absences": "_harmonize",
    "load_harmonize_settings": "_harmonize",
    "normalize_reason": "_harmonize",
    "score_harmonization": "_harmonize",
    # deidentify (keyed pseudonyms, k-anonymity)
    "DEMO_KEY": "_pseudonym",
    "KEY_ENV_VAR": "_pseudonym",
    "PseudonymKey": "_pseudonym",
    "pseudonymize_values": "_pseudonym",
    "resolve_pseudonym_key": "_pseudonym",
    "KAnonymity": "_kanon",
    "measure_k_anonymity": "_kanon",
    "DeidentificationReport": "_deidentify",
    "Deidentified": "_deidentify",
    "DeidentifyConfig": "_deidentify",
    "deidentify": "_deidentify",
    "pseudonymize_truth": "_deidentify",
    # synthesize / evaluate (virtual CSS)
    "SynthesisConfig": "_synthesize",
    "VirtualCSS": "_synthesize",
    "load_synthesizer": "_synthesize",
    "sample_virtual_css": "_synthesize",
    "synthesize": "_synthesize",
    "student_table": "_student_table",
    "EvaluationConfig": "_evaluate",
    "VirtualCSSReport": "_evaluate",
    "dataset_digest": "_evaluate",
    "evaluate_virtual_css": "_evaluate",
    "split_students": "_evaluate",
    "render_report_html": "_report",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
