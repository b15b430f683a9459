"""Synthesize a virtual CSS with SDV 2.0: learn one wide row per student, sample, re-expand.

Why this design (measured on this stack, see issue 3 and docs/architecture.md, "Known traps"):

- **Student level, not multi-table.** Open-source ``HMASynthesizer`` refuses more than 5
  tables or depth > 2 and took 32 s for 5,000 students x 4 years of a single results table.
  The unit of privacy and of prediction is the student, so the synthesizer learns one row
  per student (:mod:`._student_table`: context, trajectory, per-grade mean marks, term trend
  and spread, absence rate and reason mix, plan, exam, outcome), and the long tables are
  re-derived by explicit rules (:mod:`._expand`) that keep the contract's invariants (grade
  progression, 3 terms x 4 competencies, marks in 0-100, exam in the first grade-4 year).
- **GaussianCopula by default.** It fits 50k rows in tens of seconds on 2 cores and scored
  quality 0.94 on such a table; CTGAN/TVAE (``[synthesize] synthesizer``) take minutes per
  epoch here and are research options (torch seeded by hand).
- **The exit outcome is synthesized sequentially, uncensored** (:mod:`._outcome`): the extract
  truncates exits at its last school year, a known deterministic rule the copula cannot learn
  (it left 40-60 % of the oldest cohorts without an exit). The copula synthesizes the row
  without the outcome; a model fitted on complete cohorts draws the exit given the primary
  history; re-expansion censors exits after the last year, as the source is censored.
- **Structural gaps are imputed, not modelled.** A mark for grade 5 is missing because the
  student has not reached grade 5: the trajectory (cohort, repeats, exit) decides which grades
  exist, so such gaps are imputed before fitting and ignored on re-expansion. (RDT's null
  generation draws nulls at random, or, with ``from_column``, produced all-null columns here.)
  Real nulls of small discrete columns (mother's education, a suppressed birth year) are a
  category level.
- **sdtypes reviewed** (docs/architecture.md, "Known traps"): every text column is
  ``categorical`` (never ``id``, which SDMetrics and DCR would skip, nor PII, which SDV
  would fake), every number is ``numerical`` (no ``ordinal`` with first-appearance order;
  DCR skips ordinals).
- **No identifier ever reaches SDV**: the input is the de-identified extract, and the wide
  table has no id column at all; virtual students get fresh ids ``V-0000000``...
- **Workforce tables stay out** (``class_groups``, ``teachers``): models never use teacher
  variables, the workforce consent is separate, and teacher-class links are a re-
  identification path. Enrolments keep a ``class_group_id`` (contract column) made of
  school-year-grade only (``V-<school>-<year>-<grade>``), which links to no real teacher.
- **Reproducible**: the copula fit is deterministic; sampling seeds SDV's model and every
  RDT reverse transformer from ``seed``, and re-expansion uses ``numpy`` seeded likewise.

``sdv`` is imported only here, inside functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cin_ml.config import Settings, load_settings
from cin_ml.errors import DataError
from cin_ml.schema import validate_extract
from cin_ml.virtual_css.synthesis._expand import expand_students
from cin_ml.virtual_css.synthesis._outcome import (
    OUTCOME_COLUMNS,
    draw_outcomes,
    fit_outcome_model,
    observed_outcomes,
)
from cin_ml.virtual_css.synthesis._student_table import (
    MARK_COLUMNS,
    expansion_context,
    student_table,
)

__all__ = ["SynthesisConfig", "VirtualCSS", "load_synthesizer", "sample_virtual_css",
           "synthesize"]

TABLE = "students"
_SYNTH_FILE, _CTX_FILE = "synthesizer.pkl", "expansion.json"


class SynthesisConfig(Settings):
    """``[synthesize]`` of ``configs/virtual_css.toml``."""

    synthesizer: Literal["gaussian_copula", "ctgan", "tvae"] = "gaussian_copula"
    default_distribution: str = "norm"
    epochs: int = 300
    scale: float = 1.0
    min_string_support: int = 5
    outcome_complete_coverage: float = Field(0.98, gt=0, le=1)
    outcome_num_trees: int = Field(100, ge=1)
    outcome_min_leaf: int = Field(50, ge=1)
    num_threads: int = Field(1, ge=1)

    @classmethod
    def load(cls, path: Path | str | None = None) -> SynthesisConfig:
        return load_settings(cls, "virtual_css", path, section="synthesize")


@dataclass(frozen=True)
class VirtualCSS:
    """A virtual CSS: contract tables (deidentified form) plus what produced them.

    ``source_students`` / ``virtual_students`` are the wide tables (evaluation reads them);
    ``model`` is the fitted SDV synthesizer and ``context`` the expansion facts.
    """

    tables: dict[str, pd.DataFrame]
    source_students: pd.DataFrame
    virtual_students: pd.DataFrame
    model: object = field(repr=False)
    context: dict = field(repr=False)
    synthesizer: str = "gaussian_copula"
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    source_table: pd.DataFrame | None = field(default=None, repr=False)
    """The source's wide table (:func:`student_table`, indexed by student id): evaluation
    reuses it instead of rebuilding it."""

    def to_dict(self) -> dict:
        return {"synthesizer": self.synthesizer, "seed": self.seed,
                "rows": {k: len(v) for k, v in sorted(self.tables.items())},
                "n_source_students": len(self.source_students),
                "n_virtual_students": len(self.virtual_students),
                "timings_s": {k: round(v, 3) for k, v in sorted(self.timings.items())}}

    def save_model(self, folder: Path | str) -> Path:
        """Write the fitted synthesizer and expansion context to ``folder`` (created)."""
        p = Path(folder)
        p.mkdir(parents=True, exist_ok=True)
        self.model.save(str(p / _SYNTH_FILE))
        (p / _CTX_FILE).write_text(json.dumps(
            {"context": self.context, "synthesizer": self.synthesizer}, sort_keys=True,
            ensure_ascii=False), encoding="utf-8")
        return p


def sdv_metadata(wide: pd.DataFrame):
    """SDV metadata for the wide table, sdtypes set explicitly (no detection)."""
    from sdv.metadata import Metadata

    cols = {}
    for c in wide.columns:
        if pd.api.types.is_numeric_dtype(wide[c]) and not pd.api.types.is_bool_dtype(wide[c]):
            cols[c] = {"sdtype": "numerical"}
        else:
            cols[c] = {"sdtype": "categorical"}
    return Metadata.load_from_dict({"tables": {TABLE: {"columns": cols}}})


CATEGORICAL_NUMBERS = ("cohort_year", "mother_education", "birth_offset", "rep_grade",
                       "rep_primary", "rep_secondary")
"""Small whole-number columns modelled as categories (exact marginals; nulls as a level).
``cohort_year`` too: as a number its first and last years came out at half their size."""


def _fit_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """The frame SDV sees: no numerical nulls (structural gaps imputed), discrete as text.

    A mark for a grade not reached, the exit offset of a student still in school, etc. are
    imputed (nearest grade along the row, column median); re-expansion ignores them because
    the trajectory decides which grades, exams and exits exist.
    """
    df = wide.reset_index(drop=True).copy()
    for c in CATEGORICAL_NUMBERS:
        v = pd.to_numeric(df[c]).round()
        df[c] = v.map(lambda x: None if pd.isna(x) else str(int(x))).astype(object)
    for comp in {c.split("_")[1] for c in MARK_COLUMNS}:
        cols = [c for c in MARK_COLUMNS if c.split("_")[1] == comp]
        df[cols] = df[cols].astype(float).ffill(axis=1).bfill(axis=1)
    if "exam_mark" in df:
        df["exam_mark"] = _impute_exam(df)
    for c in df.columns:
        if c in CATEGORICAL_NUMBERS:
            continue
        if pd.api.types.is_numeric_dtype(df[c]):
            col = pd.to_numeric(df[c]).astype(float)
            df[c] = col.fillna(col.median() if col.notna().any() else 0.0)
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def _impute_exam(df: pd.DataFrame) -> pd.Series:
    """Exam marks of students who have not reached grade 4 (a structural gap), imputed by a
    linear fit on the row's literacy marks plus residual noise (fixed seed).

    A median fill put a fifth of the rows on one value: the fitted marginal came out too
    narrow and the virtual fail rate 3-6 points too low (0.167 vs 0.198 on 50k students).
    """
    y = pd.to_numeric(df["exam_mark"]).astype(float).to_numpy()
    cols = [c for c in ("m_ecriture_g3", "m_lecture_g3", "m_ecriture_g2", "m_lecture_g2")
            if c in df]
    X = np.column_stack([np.ones(len(df)), *(df[c].astype(float).to_numpy() for c in cols)])
    ok = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    gap = np.isnan(y)
    if ok.sum() < X.shape[1] + 2 or not gap.any():
        return pd.Series(np.where(gap, np.nanmedian(y) if (~gap).any() else 0.0, y))
    beta, *_ = np.linalg.lstsq(X[ok], y[ok], rcond=None)
    sd = float(np.std(y[ok] - X[ok] @ beta))
    fit = np.where(np.isnan(X).any(axis=1), np.nanmedian(y), np.nan_to_num(X) @ beta)
    noise = np.random.default_rng(0).normal(0.0, sd, len(y))
    return pd.Series(np.where(gap, np.clip(fit + noise, 0, 100), y))


def _make_synthesizer(metadata, cfg: SynthesisConfig, seed: int):
    if cfg.synthesizer == "gaussian_copula":
        from sdv.single_table import GaussianCopulaSynthesizer

        # RDT's UniformEncoder turns a category into a value uniform on its slice of [0, 1]:
        # "uniform" is that column's exact marginal (a fitted "norm" piled the clipped tails
        # onto the first and last categories: cohort sizes came out 0.5-1.4x the source's)
        cols = metadata.to_dict()["tables"][TABLE]["columns"]
        cats = {c: "uniform" for c, m in cols.items() if m["sdtype"] == "categorical"}
        return GaussianCopulaSynthesizer(metadata, numerical_distributions=cats,
                                         default_distribution=cfg.default_distribution)
    import torch
    from sdv.single_table import CTGANSynthesizer, TVAESynthesizer

    torch.manual_seed(seed)
    np.random.seed(seed)  # deep synthesizers read numpy's global state
    cls = CTGANSynthesizer if cfg.synthesizer == "ctgan" else TVAESynthesizer
    return cls(metadata, epochs=cfg.epochs, enable_gpu=False)


def _seed_sampling(synth, seed: int) -> None:
    """Seed SDV sampling (no public argument in SDV 2.0; docs/architecture.md, "Known traps")."""
    synth._set_random_state(seed)
    ht = synth._data_processor._hyper_transformer
    for i, tr in enumerate(t for t in ht.field_transformers.values() if t is not None):
        tr.set_random_state(np.random.RandomState((seed * 7919 + i) % 2**32), "reverse_transform")


def sample_virtual_css(model, context: dict, tables_ref: Mapping[str, pd.DataFrame],
                       n_students: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Sample ``n_students`` wide rows from a fitted ``model`` and re-expand them.

    The copula draws the student rows, the outcome model (:mod:`._outcome`) their uncensored
    exit, and re-expansion censors exits after the last school year. The wide rows returned
    carry the outcome as the extract records it (censored), like the source's wide table.
    """
    _seed_sampling(model, seed)
    wide = model.sample(n_students)[TABLE]
    outcome = context.get("outcome")
    if outcome is not None:
        wide = draw_outcomes(wide, outcome, np.random.default_rng([seed, 1]))
    tables = expand_students(wide, context, dict(tables_ref), np.random.default_rng(seed))
    if outcome is not None:
        wide = observed_outcomes(wide, context["last_year"],
                                 outcome.get("offset_fill", float("nan")))
    return wide, tables


def synthesize(tables: Mapping[str, pd.DataFrame], config: SynthesisConfig | None = None,
               seed: int = 0, n_students: int | None = None,
               progress: Callable[[str], None] | None = None) -> VirtualCSS:
    """Fit a synthesizer on a de-identified extract and sample a virtual CSS.

    Parameters
    ----------
    tables
        De-identified extract (``validate_extract(form="deidentified")`` must pass).
    config
        ``[synthesize]`` settings (from ``configs/virtual_css.toml`` by default).
    seed
        Seed of sampling and re-expansion (same seed and data, same virtual CSS).
    n_students
        Virtual students (default: ``scale`` x source students).
    progress
        Called with a short message at each step.

    Returns
    -------
    VirtualCSS
        The virtual tables (deidentified form, validated), the wide tables and the model.
    """
    cfg = config or SynthesisConfig.load()
    say = progress or (lambda _m: None)
    src = validate_extract(tables, required=("css", "schools", "students", "enrolments",
                                             "marks"), form="deidentified")
    if len(src["students"]) < 50:
        raise DataError(f"synthesis needs at least 50 students; got {len(src['students'])}")
    timings = {}
    t0 = time.perf_counter()
    wide = student_table(src)
    ctx = expansion_context(src, cfg.min_string_support)
    timings["student_table"] = time.perf_counter() - t0
    say(f"student table: {wide.shape[0]:,} students x {wide.shape[1]} columns")
    t0 = time.perf_counter()
    ctx["outcome"] = fit_outcome_model(
        wide, src["schools"], complete_coverage=cfg.outcome_complete_coverage,
        min_support=cfg.min_string_support, n_trees=cfg.outcome_num_trees,
        min_leaf=cfg.outcome_min_leaf, seed=seed, num_threads=cfg.num_threads)
    timings["outcome_model"] = time.perf_counter() - t0
    say(f"outcome model: {ctx['outcome'].get('kind')} on {ctx['outcome'].get('n_fit', 0):,} "
        f"students ({ctx['outcome'].get('fit_on', 'no exit in the source')})")
    data = _fit_frame(wide)
    copula_data = data.drop(columns=[c for c in OUTCOME_COLUMNS if c in data])
    synth = _make_synthesizer(sdv_metadata(copula_data), cfg, seed)
    t0 = time.perf_counter()
    say(f"fitting {cfg.synthesizer} ...")
    synth.fit({TABLE: copula_data})
    timings["fit"] = time.perf_counter() - t0
    say(f"fitted in {timings['fit']:.1f} s")
    n = n_students or max(1, round(cfg.scale * len(data)))
    t0 = time.perf_counter()
    virt_wide, virt = sample_virtual_css(synth, ctx, src, n, seed)
    timings["sample_expand"] = time.perf_counter() - t0
    virt = validate_extract(virt, required=list(virt), form="deidentified")
    say(f"sampled and re-expanded {n:,} virtual students in {timings['sample_expand']:.1f} s")
    return VirtualCSS(virt, data, virt_wide.reset_index(drop=True), synth, ctx,
                      cfg.synthesizer, seed, timings, wide)


def load_synthesizer(folder: Path | str):
    """Load a model saved by :meth:`VirtualCSS.save_model`: ``(synthesizer, context)``."""
    from sdv.utils import load_synthesizer as _load

    p = Path(folder)
    if not (p / _SYNTH_FILE).is_file() or not (p / _CTX_FILE).is_file():
        raise DataError(f"{p}: not a saved virtual-CSS synthesizer ({_SYNTH_FILE}, {_CTX_FILE})")
    meta = json.loads((p / _CTX_FILE).read_text(encoding="utf-8"))
    return _load(str(p / _SYNTH_FILE)), meta["context"]
