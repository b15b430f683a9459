"""Stage 1 of a virtual CSS: de-identify a source extract.

Keyed pseudonyms (``_pseudonym``), generalization and suppression until k-anonymity holds
(``_kanon``), identifier-shaped tokens scrubbed from free text (``_scrub``), and the
table-by-table de-identification driven by the schema's column roles
(``_deidentify``). Public names resolve lazily (PEP 562).
"""

from __future__ import annotations

from cin_ml._lazy import lazy_exports

# name -> private module that defines it
_EXPORTS: dict[str, str] = {
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
    "REQUIRED_TABLES": "_deidentify",
    "deidentify": "_deidentify",
    "pseudonymize_truth": "_deidentify",
    "free_text_columns": "_scrub",
    "scrub_free_text": "_scrub",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
