"""Stage 2 of a virtual CSS: synthesize it from a de-identified extract.

The student-level wide table the synthesizer learns (``_student_table``), the SDV fit and
sampling (``_synthesize``, the only module that imports ``sdv``), the sequential synthesis of
the school-exit outcome (``_outcome``) and the re-expansion into the long contract tables
(``_expand``). Public names resolve lazily (PEP 562).
"""

from __future__ import annotations

from cin_ml._lazy import lazy_exports

# name -> private module that defines it
_EXPORTS: dict[str, str] = {
    "SynthesisConfig": "_synthesize",
    "VirtualCSS": "_synthesize",
    "load_synthesizer": "_synthesize",
    "sample_virtual_css": "_synthesize",
    "synthesize": "_synthesize",
    "MARK_COLUMNS": "_student_table",
    "expansion_context": "_student_table",
    "student_table": "_student_table",
    "expand_students": "_expand",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
