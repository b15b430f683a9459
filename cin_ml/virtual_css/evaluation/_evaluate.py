"""Evaluate a virtual CSS: fidelity, privacy and utility, with verdicts against policy.

- **Fidelity** (:mod:`._fidelity`: SDMetrics ``QualityReport`` and ``DiagnosticReport``)
  compares the wide student table rebuilt from the *re-expanded* virtual tables with the one
  of the source students the synthesizer saw, so the score covers synthesis and re-expansion
  together.
- **Privacy** (:mod:`._privacy`). Exact copies: a hash join of virtual and source students on
  the quasi-identifiers plus every mark summary (not ``NewRowSynthesis``, one pandas query
  per row). Distance to closest record: SDMetrics ``DCROverfittingProtection`` on seeded
  subsamples (the metric is quadratic) of virtual, training and held-out source students;
  a synthesizer that memorizes puts virtual rows closer to training than to holdout.
  Membership inference: an attacker scores each source student by minus its distance to the
  closest of *all* virtual students (exact nearest neighbour, same distance as SDMetrics'
  DCR); the AUC of members (training) against non-members (holdout) near 0.5 means
  membership cannot be told. Subsampled DCR alone misses copies whose twin falls outside the
  training subsample (a negative-control test showed it), hence this full-reference check.
- **Utility** (:mod:`._utility`): LightGBM trained on the virtual CSS, tested on held-out
  source students, against the same model trained on the source.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cin_ml.config import Settings, load_settings
from cin_ml.virtual_css.evaluation._fidelity import _eval_frame, _fidelity, _metadata
from cin_ml.virtual_css.evaluation._privacy import _privacy
from cin_ml.virtual_css.evaluation._utility import utility_check
from cin_ml.virtual_css.synthesis import student_table

__all__ = ["EvaluationConfig", "VirtualCSSReport", "dataset_digest", "evaluate_virtual_css",
           "split_students"]


class EvaluationConfig(Settings):
    """``[evaluate]`` of ``configs/virtual_css.toml``."""

    quality_target: float = 0.85
    validity_target: float = 1.0
    holdout_share: float = 0.2
    dcr_rows: int = 1000
    sdmetrics_dcr_rows: int = 500
    dcr_max_closer_to_training: float = 0.6
    mia_max_auc: float = 0.6
    utility_min_ratio: float = 0.95
    top_drivers: int = 10
    lgbm_num_threads: int = 1
    lgbm_num_trees: int = 200
    fidelity_rows: int = 10000

    @classmethod
    def load(cls, path: Path | str | None = None) -> EvaluationConfig:
        return load_settings(cls, "virtual_css", path, section="evaluate")


@dataclass(frozen=True)
class VirtualCSSReport:
    """Fidelity, privacy and utility of a virtual CSS, with verdicts (``to_dict``)."""

    fidelity: dict
    privacy: dict
    utility: dict
    verdicts: dict[str, bool]
    digests: dict[str, str] = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(self.verdicts.values())

    def to_dict(self) -> dict:
        return {"fidelity": self.fidelity, "privacy": self.privacy, "utility": self.utility,
                "verdicts": dict(sorted(self.verdicts.items())), "passed": self.passed,
                "digests": dict(sorted(self.digests.items())), "details": self.details}


def dataset_digest(tables: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 over the content of every table (name, columns and row hashes)."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode() + b"\x00" + "\x1f".join(map(str, df.columns)).encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def split_students(tables: Mapping[str, pd.DataFrame], share: float, seed: int
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Split an extract by student into (training, holdout); institution tables in both."""
    ids = tables["students"]["student_id"].to_numpy()
    rng = np.random.default_rng(seed)
    hold = set(rng.choice(ids, size=int(round(share * len(ids))), replace=False))
    train, holdout = {}, {}
    for name, df in tables.items():
        if "student_id" in df.columns:
            m = df["student_id"].isin(hold)
            train[name], holdout[name] = df.loc[~m].reset_index(drop=True), df.loc[m].reset_index(
                drop=True)
        else:
            train[name], holdout[name] = df, df
    return train, holdout


def evaluate_virtual_css(train: Mapping[str, pd.DataFrame], holdout: Mapping[str, pd.DataFrame],
                         virtual: Mapping[str, pd.DataFrame],
                         config: EvaluationConfig | None = None, seed: int = 0,
                         synthesized: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                         progress: Callable[[str], None] | None = None,
                         source_table: pd.DataFrame | None = None) -> VirtualCSSReport:
    """Score a virtual CSS against the source students it was fitted on and a holdout.

    Parameters
    ----------
    train, holdout
        De-identified source tables split by :func:`split_students`: the synthesizer saw
        ``train`` only.
    virtual
        The virtual CSS tables.
    synthesized
        ``(source_students, virtual_students)``: the wide tables the synthesizer learnt and
        sampled (:class:`VirtualCSS`). When given, the headline fidelity scores that table
        (what SDV produced); the round trip through re-expansion is always scored too
        (``fidelity["round_trip"]``).
    source_table
        ``student_table(train)`` when already built (``VirtualCSS.source_table``).
    """
    cfg = config or EvaluationConfig.load()
    say = progress or (lambda _m: None)
    clock = {"t": time.perf_counter()}
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - clock["t"], 3)
        clock["t"] = now

    real = _eval_frame(student_table(train) if source_table is None else source_table)
    hold = _eval_frame(student_table(holdout)).reindex(columns=real.columns)
    virt = _eval_frame(student_table(virtual)).reindex(columns=real.columns)
    meta = _metadata(real)
    lap("student_tables")
    say("fidelity: SDMetrics quality and diagnostic reports")

    fid = _fidelity(real, virt, meta, cfg.fidelity_rows, seed)
    if synthesized is not None:
        src_w, virt_w = (_eval_frame(df.reset_index(drop=True)) for df in synthesized)
        fid = {**_fidelity(src_w, virt_w, _metadata(src_w), cfg.fidelity_rows, seed),
               "round_trip": {k: v for k, v in fid.items() if k != "per_column"}}
    lap("fidelity")
    say("privacy: exact matches, DCR, membership inference")
    priv = _privacy(real, hold, virt, meta, cfg, seed)
    lap("privacy")
    say("utility: LightGBM trained on virtual, tested on held-out source")
    util = utility_check(train, virtual, holdout, seed=seed, n_threads=cfg.lgbm_num_threads,
                         n_trees=cfg.lgbm_num_trees, top=cfg.top_drivers)
    lap("utility")
    ratios = [u["ratio"] for u in util.values() if "ratio" in u]
    verdicts = {
        "quality": fid["quality"] >= cfg.quality_target,
        "validity": fid["validity"] >= cfg.validity_target,
        "no_exact_copies": priv["exact_match_rate"] == 0.0,
        "dcr": priv["dcr"]["closer_to_training"] <= cfg.dcr_max_closer_to_training,
        "membership_inference": priv["membership_inference"]["auc"] <= cfg.mia_max_auc,
        "utility": bool(ratios) and min(ratios) >= cfg.utility_min_ratio,
    }
    digests = {"source_train": dataset_digest(train), "source_holdout": dataset_digest(holdout),
               "virtual": dataset_digest(virtual)}
    details = {"targets": cfg.model_dump(), "n_students": {
        "train": len(real), "holdout": len(hold), "virtual": len(virt)},
        "dcr_subsampled": "SDMetrics DCR is quadratic: seeded subsamples of "
                          f"{priv['dcr']['sdmetrics']['rows_per_sample']} rows each",
        "fidelity_rows": cfg.fidelity_rows, "timings_s": timings}
    return VirtualCSSReport(fid, priv, util, verdicts, digests, details)
