"""The validation protocol of a spec (hold-out, k-fold, repeated k-fold) and its accuracy.

Each fold's model sees only its training rows: the number of boosting rounds is chosen by
early stopping on a part of those rows (``[model] inner_valid_fraction``), never on the test
fold. Accuracy is the share of correct decisions at ``[model] decision_threshold``, per run
(all test folds of one repetition together), as in Cortez & Silva (2008); the interval is a
Student-t interval across runs (or a Wilson interval over rows for a single run).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.external._dataset import Dataset
from cin_ml.external._spec import ValidationSection
from cin_ml.models import auc, fit_plain

__all__ = ["Accuracy", "CVResult", "cross_validate", "protocol_splits", "summarize"]


def _r(x: float) -> float | None:
    return None if x != x else round(float(x), 6)


@dataclass(frozen=True)
class Accuracy:
    """Mean of per-run values with a confidence interval (``method``: ``t`` or ``wilson``)."""

    mean: float
    low: float
    high: float
    runs: tuple[float, ...]
    method: str
    level: float = 0.95

    def to_dict(self) -> dict:
        return {"mean": _r(self.mean), "low": _r(self.low), "high": _r(self.high),
                "n_runs": len(self.runs),
                "sd": round(float(np.std(self.runs, ddof=1)), 6) if len(self.runs) > 1
                else None, "method": self.method, "level": self.level,
                "runs": [round(r, 6) for r in self.runs]}


def summarize(runs, n_rows: int | None = None, level: float = 0.95) -> Accuracy:
    """Mean and CI of per-run proportions: Student-t across runs when there are two or more,
    else a Wilson interval over the ``n_rows`` rows of the single run."""
    from scipy import stats

    r = np.asarray(runs, float)
    m = float(r.mean())
    if r.size >= 2:
        sd = float(r.std(ddof=1))
        half = float(stats.t.ppf(0.5 + level / 2, r.size - 1)) * sd / np.sqrt(r.size)
        return Accuracy(m, float(m - half), float(m + half), tuple(map(float, r)), "t", level)
    if not n_rows:
        return Accuracy(m, float("nan"), float("nan"), (m,), "none", level)
    z = float(stats.norm.ppf(0.5 + level / 2))
    centre = (m + z * z / (2 * n_rows)) / (1 + z * z / n_rows)
    half = z * np.sqrt(m * (1 - m) / n_rows + z * z / (4 * n_rows ** 2)) / (1 + z * z / n_rows)
    return Accuracy(m, float(centre - half), float(centre + half), (m,), "wilson", level)


def protocol_splits(v: ValidationSection, y: np.ndarray, groups: np.ndarray | None = None
                    ) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Runs of (train, test) row positions: one run for hold-out and k-fold, ``n_repeats``
    runs for repeated k-fold (stratified on ``y`` when ``v.stratify``).

    With ``groups`` (``[columns] group``: the rows of one person), every group's rows fall
    in one fold: scikit-learn's ``StratifiedGroupKFold`` (``GroupKFold`` unstratified) and
    ``GroupShuffleSplit`` for hold-out.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    idx = np.arange(len(y))
    if groups is not None:
        return _grouped_splits(v, y, np.asarray(groups))
    if v.protocol == "holdout":
        tr, te = train_test_split(idx, test_size=v.test_size, random_state=v.seed,
                                  stratify=y if v.stratify else None)
        return [[(np.sort(tr), np.sort(te))]]
    if v.stratify and np.bincount(y).min() < v.n_splits:
        raise DataError(f"[validation] n_splits = {v.n_splits} exceeds the {np.bincount(y).min()}"
                        f" rows of the rarer class")
    repeats = v.n_repeats if v.protocol == "repeated_kfold" else 1
    cls = StratifiedKFold if v.stratify else KFold
    return [list(cls(n_splits=v.n_splits, shuffle=True, random_state=v.seed + r).split(idx, y))
            for r in range(repeats)]


def _grouped_splits(v: ValidationSection, y: np.ndarray, groups: np.ndarray):
    from sklearn.model_selection import GroupKFold, GroupShuffleSplit, StratifiedGroupKFold

    idx = np.arange(len(y))
    n_groups = len(np.unique(groups))
    if v.protocol == "holdout":
        tr, te = next(GroupShuffleSplit(n_splits=1, test_size=v.test_size,
                                        random_state=v.seed).split(idx, y, groups))
        return [[(np.sort(tr), np.sort(te))]]
    if n_groups < v.n_splits:
        raise DataError(f"[validation] n_splits = {v.n_splits} exceeds the {n_groups} groups "
                        f"of [columns] group")
    repeats = v.n_repeats if v.protocol == "repeated_kfold" else 1
    runs = []
    for r in range(repeats):
        if v.stratify:
            cv = StratifiedGroupKFold(n_splits=v.n_splits, shuffle=True, random_state=v.seed + r)
        else:
            cv = GroupKFold(n_splits=v.n_splits, shuffle=True, random_state=v.seed + r)
        runs.append(list(cv.split(idx, y, groups)))
    return runs


@dataclass(frozen=True)
class CVResult:
    """Outcome of a spec's protocol.

    ``oof`` holds the first run's test predictions (every row once for k-fold; the test
    rows for hold-out): ``student_id``, ``fold``, ``y_true``, ``score``, ``flagged``,
    ``naive``, ``majority``.
    """

    protocol: dict
    model: Accuracy
    naive: Accuracy | None
    majority: Accuracy
    auc: Accuracy
    oof: pd.DataFrame
    rounds: tuple[int, ...]
    threshold: float
    seconds: float

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "threshold": self.threshold,
                "accuracy": {"model": self.model.to_dict(),
                             "naive": self.naive.to_dict() if self.naive else None,
                             "majority": self.majority.to_dict()},
                "auc": self.auc.to_dict(),
                "boosting_rounds": {"min": int(min(self.rounds)), "max": int(max(self.rounds)),
                                    "median": float(np.median(self.rounds))},
                "n_fits": len(self.rounds), "seconds": round(self.seconds, 2)}


def cross_validate(ds: Dataset, *, validation: ValidationSection | None = None,
                   progress: Callable[[str], None] | None = None) -> CVResult:
    """Run the spec's protocol (or ``validation``) on ``ds`` with the spec's model.

    Returns
    -------
    CVResult
        Accuracy of the model, of the naive rule (when the spec has one) and of the
        training folds' majority class, per run and summarized; AUC; first-run predictions.
    """
    spec = ds.spec
    v = validation or spec.validation
    lg = spec.lightgbm()
    thr = spec.model.decision_threshold
    y = ds.y
    runs = protocol_splits(v, y, ds.group)
    t0 = time.perf_counter()
    acc, acc_naive, acc_major, aucs, rounds = [], [], [], [], []
    first = None
    for r, folds in enumerate(runs):
        score = np.full(len(y), np.nan)
        major = np.full(len(y), -1)
        fold_of = np.full(len(y), -1)
        for k, (tr, te) in enumerate(folds):
            m = fit_plain(ds.X.iloc[tr], y[tr], lg,
                          inner_valid_fraction=spec.model.inner_valid_fraction,
                          seed=lg.seed + 1000 * r + k,
                          groups=None if ds.group is None else ds.group[tr])
            score[te] = m.predict(ds.X.iloc[te])
            major[te] = int(y[tr].mean() > 0.5)
            fold_of[te] = k
            rounds.append(m.n_rounds)
        te_all = fold_of >= 0
        pred = (score[te_all] >= thr).astype(int)
        acc.append(float((pred == y[te_all]).mean()))
        acc_major.append(float((major[te_all] == y[te_all]).mean()))
        if ds.naive is not None:
            acc_naive.append(float((ds.naive[te_all] == y[te_all]).mean()))
        aucs.append(auc(y[te_all], score[te_all]))
        if first is None:
            first = pd.DataFrame({"student_id": ds.ids[te_all], "fold": fold_of[te_all],
                                  "y_true": y[te_all].astype("int8"), "score": score[te_all],
                                  "flagged": pred.astype("int8"),
                                  "naive": (ds.naive[te_all] if ds.naive is not None
                                            else major[te_all]).astype("int8"),
                                  "majority": major[te_all].astype("int8")})
        if progress is not None and (r + 1) % max(1, len(runs) // 4) == 0:
            progress(f"{spec.name}: run {r + 1}/{len(runs)}, accuracy {acc[-1]:.3f}")
    n_test = int(len(first))
    protocol = {"protocol": v.protocol, "n_splits": v.n_splits if v.protocol != "holdout"
                else None, "n_repeats": len(runs), "test_size": v.test_size
                if v.protocol == "holdout" else None, "stratify": v.stratify, "seed": v.seed,
                "group": spec.columns.group}
    return CVResult(protocol, summarize(acc, n_test),
                    summarize(acc_naive, n_test) if acc_naive else None,
                    summarize(acc_major, n_test), summarize(aucs), first, tuple(rounds), thr,
                    time.perf_counter() - t0)
