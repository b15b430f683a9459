"""Exact per-student contributions from LightGBM's native ``pred_contrib``.

``booster.predict(X, pred_contrib=True)`` computes tree-path-dependent SHAP values (the
same values and the same C++ code path that ``shap.TreeExplainer`` calls for LightGBM) in
the model's raw output space (log-odds for a binary objective). Rows are spread over the
cores by LightGBM's own OpenMP loop (``num_threads``); rows are fed in chunks to bound
memory. No process pool is ever wrapped around it (nested parallelism collapses on a busy
2-core machine, docs/architecture.md, "Known traps").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cin_ml.errors import DataError

METHOD = "lightgbm.Booster.predict(pred_contrib=True): tree SHAP, tree_path_dependent"
BACKGROUND = ("none: path-dependent tree SHAP weighs each split by the training cover "
              "stored in the trees (no background sample)")
OUTPUT_SPACE = ("raw model output: log-odds of the positive class (failure/dropout); sigmoid(raw) "
                "is the model probability (calibration folded into the leaves, if any); base "
                "value + contributions = raw score")
ADDITIVITY_FLOOR = 1e-9
"""The smallest additivity bound stated: errors below it are float rounding (about 1e-15 in
log-odds), whose exact value changes with chunking and summation order."""


def additivity_bound(error: float, floor: float = ADDITIVITY_FLOOR) -> float:
    """The power of ten an additivity error is below (at least ``floor``): what
    ``explain/global.json`` and the card record, so that explaining a run again (other
    chunks, a cached frame, one more student) does not change the card's evidence and hash.

    ``additivity_bound(3e-16) == 1e-9``; ``additivity_bound(2e-6) == 1e-5``; an error that
    is exactly a power of ten is its own bound; ``nan`` stays ``nan`` (nothing explained
    cannot be bounded).
    """
    import math

    error = abs(float(error))
    if math.isnan(error):
        return error
    if error <= floor:
        return floor
    exp = math.ceil(math.log10(error))
    bound = float(f"1e{exp}")
    return bound if bound >= error else float(f"1e{exp + 1}")


@dataclass(frozen=True)
class ExplainerInfo:
    """Explainer settings recorded with every explanation (method, background, output space)."""

    method: str
    background: str
    output_space: str
    lightgbm_version: str
    n_trees: int
    num_iteration: int
    num_threads: int
    chunk_rows: int

    def to_dict(self) -> dict:
        return {"method": self.method, "background": self.background,
                "output_space": self.output_space, "lightgbm_version": self.lightgbm_version,
                "n_trees": self.n_trees, "num_iteration": self.num_iteration,
                "num_threads": self.num_threads, "chunk_rows": self.chunk_rows}


@dataclass(frozen=True, eq=False)
class Contributions:
    """Contributions of every feature for a set of students (raw, log-odds space).

    ``values[i, j]`` is feature ``features[j]``'s contribution for ``student_ids[i]``;
    ``base_value + values[i].sum() == raw_score[i]`` up to float rounding
    (``max_additivity_error`` says how close).
    """

    student_ids: np.ndarray
    features: tuple[str, ...]
    values: np.ndarray
    base_value: float
    raw_score: np.ndarray
    max_additivity_error: float
    seconds: float
    explainer: ExplainerInfo
    _index: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.student_ids)

    def row(self, student_id) -> int:
        """Row of ``student_id``; DataError when it was not explained."""
        if not self._index:
            self._index.update({sid: i for i, sid in enumerate(self.student_ids)})
        try:
            return self._index[student_id]
        except KeyError:
            raise DataError(f"student '{student_id}' has no computed contributions") from None

    def subset(self, student_ids: Sequence) -> Contributions:
        """The same record restricted to ``student_ids`` (in that order)."""
        rows = np.array([self.row(s) for s in student_ids], dtype=int)
        return Contributions(self.student_ids[rows], self.features, self.values[rows],
                             self.base_value, self.raw_score[rows],
                             self.max_additivity_error, self.seconds, self.explainer)

    def frame(self) -> pd.DataFrame:
        """Cache form: ``student_id``, one column per feature, ``base_value``, ``raw_score``."""
        df = pd.DataFrame(self.values, columns=list(self.features))
        df.insert(0, "student_id", self.student_ids)
        df["base_value"] = self.base_value
        df["raw_score"] = self.raw_score
        return df

    def to_dict(self) -> dict:
        return {"n_students": int(len(self)), "n_features": len(self.features),
                "base_value": float(self.base_value),
                "max_additivity_error": float(self.max_additivity_error),
                "seconds": round(float(self.seconds), 4),
                "explainer": self.explainer.to_dict()}


def as_booster(model):
    """The ``lightgbm.Booster`` inside ``model`` (a Booster or a fitted LGBM estimator)."""
    import lightgbm as lgb

    if isinstance(model, lgb.Booster):
        return model
    booster = getattr(model, "booster_", None)
    if isinstance(booster, lgb.Booster):
        return booster
    raise DataError(f"explain needs a LightGBM Booster or fitted LGBM estimator; got "
                    f"{type(model).__name__}")


def _aligned(booster, X: pd.DataFrame) -> pd.DataFrame:
    from cin_ml.models import is_positional

    names = booster.feature_name()
    if is_positional(names):
        # trained by fit_plain on positional names: X holds the model's features, in order
        if X.shape[1] != len(names):
            raise DataError(f"feature frame has {X.shape[1]} column(s); the model takes "
                            f"{len(names)} (its features, in model order)")
        return X
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise DataError(f"feature frame lacks model input column(s) {', '.join(missing[:8])}"
                        + (" …" if len(missing) > 8 else ""))
    return X[names] if list(X.columns) != names else X


def compute_contributions(model, X: pd.DataFrame, student_ids: Sequence | None = None, *,
                          num_threads: int = 1, chunk_rows: int = 25000,
                          num_iteration: int | None = None) -> Contributions:
    """Exact contributions of ``model`` for every row of ``X``.

    Parameters
    ----------
    model
        ``lightgbm.Booster`` or fitted ``LGBMClassifier`` with a binary objective.
    X
        Model input frame (the model's columns; extra columns are ignored). For a model
        trained on positional input names (:func:`cin_ml.models.fit_plain`), exactly the
        model's features in model order, under their own names.
    student_ids
        Ids of the rows of ``X`` (default: ``X.index``).
    num_threads
        Threads LightGBM spreads rows over (resolve with ``resolve_threads`` first).
    chunk_rows
        Rows per native call.
    num_iteration
        Trees used (default: the booster's best iteration, as its predictions do).

    Returns
    -------
    Contributions
    """
    import lightgbm as lgb

    booster = as_booster(model)
    if booster.num_model_per_iteration() != 1:
        raise DataError("explain supports single-output (binary or regression) LightGBM "
                        f"models; this one has {booster.num_model_per_iteration()} outputs")
    X = _aligned(booster, X)
    ids = np.asarray(X.index if student_ids is None else student_ids, dtype=object)
    if len(ids) != len(X):
        raise DataError(f"{len(ids)} student ids for {len(X)} feature rows")
    if num_iteration is None:
        num_iteration = booster.best_iteration if booster.best_iteration > 0 else -1
    p = X.shape[1]
    values = np.empty((len(X), p), dtype=np.float64)
    base = np.empty(len(X), dtype=np.float64)
    raw = np.empty(len(X), dtype=np.float64)
    start = time.perf_counter()
    for lo in range(0, len(X), chunk_rows):
        part = X.iloc[lo:lo + chunk_rows]
        phi = booster.predict(part, pred_contrib=True, num_iteration=num_iteration,
                              num_threads=num_threads)
        values[lo:lo + len(part)] = phi[:, :p]
        base[lo:lo + len(part)] = phi[:, p]
        raw[lo:lo + len(part)] = booster.predict(part, raw_score=True,
                                                 num_iteration=num_iteration,
                                                 num_threads=num_threads)
    seconds = time.perf_counter() - start
    base_value = float(base[0]) if len(base) else float("nan")
    err = float(np.max(np.abs(base + values.sum(axis=1) - raw))) if len(X) else 0.0
    n_trees = booster.num_trees() if num_iteration <= 0 else min(num_iteration,
                                                                 booster.num_trees())
    info = ExplainerInfo(METHOD, BACKGROUND, OUTPUT_SPACE, lgb.__version__, int(n_trees),
                         int(num_iteration), int(num_threads), int(chunk_rows))
    return Contributions(ids, tuple(X.columns), values, base_value, raw, err, seconds, info)


def contributions_from_frame(df: pd.DataFrame, explainer: ExplainerInfo) -> Contributions:
    """Rebuild :class:`Contributions` from its cache frame (:meth:`Contributions.frame`)."""
    need = {"student_id", "base_value", "raw_score"}
    if not need <= set(df.columns):
        raise DataError(f"contributions cache lacks column(s) {sorted(need - set(df.columns))}")
    feats = tuple(c for c in df.columns if c not in need)
    values = df[list(feats)].to_numpy(dtype=np.float64)
    base = df["base_value"].to_numpy(dtype=np.float64)
    raw = df["raw_score"].to_numpy(dtype=np.float64)
    err = float(np.max(np.abs(base + values.sum(axis=1) - raw))) if len(df) else 0.0
    return Contributions(df["student_id"].to_numpy(dtype=object), feats, values,
                         float(base[0]) if len(df) else float("nan"), raw, err, 0.0, explainer)


def merge_contributions(a: Contributions, b: Contributions) -> Contributions:
    """Rows of ``a`` then the rows of ``b`` whose students ``a`` lacks (same model)."""
    if a.features != b.features:
        raise DataError("cannot merge contributions computed on different features")
    have = set(a.student_ids)
    keep = np.array([s not in have for s in b.student_ids], dtype=bool)
    return Contributions(np.concatenate([a.student_ids, b.student_ids[keep]]), a.features,
                         np.vstack([a.values, b.values[keep]]), a.base_value,
                         np.concatenate([a.raw_score, b.raw_score[keep]]),
                         max(a.max_additivity_error, b.max_additivity_error),
                         a.seconds + b.seconds, b.explainer)
