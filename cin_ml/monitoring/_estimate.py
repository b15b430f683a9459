"""Performance before and after the labels: a label-free estimate and the realized figures.

Before a cohort's labels exist, the calibrated probabilities say what to expect
(confidence-based performance estimation, CBPE): if ``p`` is calibrated, each student's
label is a draw ``y ~ Bernoulli(p)``. Drawing the whole cohort's labels ``n_simulations``
times gives the distribution of the AUC and of the recall at the operating threshold that
the cohort will show; the estimate is its mean, the interval its central ``level`` quantiles.
The AUC of each draw comes from the ranks of ``p`` computed once (Mann-Whitney), so a
50,000-student cohort takes well under a second per hundred draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = ["estimate_performance", "group_gaps", "realized_performance"]


def _auc_from_ranks(ranks: np.ndarray, y: np.ndarray) -> np.ndarray:
    """AUC of each row of the 0/1 matrix ``y`` against scores with ``ranks``."""
    n1 = y.sum(axis=1).astype(float)
    n0 = y.shape[1] - n1
    s = y.astype(np.float64) @ ranks
    with np.errstate(invalid="ignore", divide="ignore"):
        return (s - n1 * (n1 + 1) / 2) / (n1 * n0)


def estimate_performance(p, threshold: float, *, n_simulations: int = 1000,
                         level: float = 0.95, seed: int = 0) -> dict:
    """Label-free estimate of AUC, recall at ``threshold`` and event rate, with intervals.

    Returns ``{"auc", "auc_interval", "recall", "recall_interval", "event_rate",
    "event_rate_interval", "n", "n_simulations", "level"}`` (floats, JSON-safe).
    """
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    n = p.size
    rng = np.random.default_rng(seed)
    ranks = rankdata(p)
    flagged = (p >= threshold).astype(np.float64)
    chunk = max(1, int(4_000_000 // max(n, 1)))
    aucs, recalls, rates = [], [], []
    done = 0
    while done < n_simulations:
        b = min(chunk, n_simulations - done)
        y = rng.random((b, n)) < p
        aucs.append(_auc_from_ranks(ranks, y))
        n1 = y.sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            recalls.append((y.astype(np.float64) @ flagged) / n1)
        rates.append(n1 / n)
        done += b
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2

    def summary(x):
        x = np.concatenate(x)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return None, [None, None]
        return float(np.mean(x)), [float(np.quantile(x, lo)), float(np.quantile(x, hi))]

    auc, auc_iv = summary(aucs)
    rec, rec_iv = summary(recalls)
    rate, rate_iv = summary(rates)
    return {"auc": auc, "auc_interval": auc_iv, "recall": rec, "recall_interval": rec_iv,
            "event_rate": rate, "event_rate_interval": rate_iv, "n": int(n),
            "n_simulations": int(n_simulations), "level": float(level),
            "flag_rate": float(flagged.mean()) if n else None}


def _ece(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() / y.size * abs(y[m].mean() - p[m].mean())
    return float(total)


def realized_performance(y, p, threshold: float) -> dict:
    """AUC, recall and precision at ``threshold``, calibration gap, ECE and Brier score of
    a labelled cohort."""
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    n1 = y.sum()
    n0 = y.size - n1
    flagged = p >= threshold
    auc = None
    if n1 > 0 and n0 > 0:
        auc = float(_auc_from_ranks(rankdata(p), y[None, :].astype(bool))[0])
    return {"n": int(y.size), "event_rate": float(y.mean()) if y.size else None,
            "auc": auc,
            "recall": float((y * flagged).sum() / n1) if n1 else None,
            "precision": float(y[flagged].mean()) if flagged.any() else None,
            "flag_rate": float(flagged.mean()) if y.size else None,
            "calibration_gap": float(abs(p.mean() - y.mean())) if y.size else None,
            "ece": _ece(y, p) if y.size else None,
            "brier": float(np.mean((p - y) ** 2)) if y.size else None}


def group_gaps(groups: pd.DataFrame, p, threshold: float, y=None,
               min_group_size: int = 20) -> dict:
    """Per audit attribute: the largest minus the smallest flag rate (and, with labels,
    false-negative and false-positive rate) across its groups of at least
    ``min_group_size`` students. Keys are ``flag_rate_gap(attr)``, ``fnr_gap(attr)``,
    ``fpr_gap(attr)``; a gap needs two groups large enough."""
    flagged = np.asarray(p, float) >= threshold
    out: dict[str, float | None] = {}
    for attr in groups.columns:
        g = groups[attr].astype("string").fillna("(missing)").to_numpy()
        rates, fnr, fpr = [], [], []
        for level in np.unique(g):
            m = g == level
            if m.sum() < min_group_size:
                continue
            rates.append(flagged[m].mean())
            if y is not None:
                yy = np.asarray(y, float)[m]
                pos, neg = yy == 1, yy == 0
                if pos.sum() >= min_group_size // 2:
                    fnr.append(1 - flagged[m][pos].mean())
                if neg.sum() >= min_group_size // 2:
                    fpr.append(flagged[m][neg].mean())

        def gap(x):
            return float(max(x) - min(x)) if len(x) >= 2 else None

        out[f"flag_rate_gap({attr})"] = gap(rates)
        if y is not None:
            out[f"fnr_gap({attr})"] = gap(fnr)
            out[f"fpr_gap({attr})"] = gap(fpr)
    return out
