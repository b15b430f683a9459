"""Metrics on numpy arrays: AUC, average precision, Brier score, reliability curve,
confusion rates at a threshold and bootstrap confidence intervals (vectorized; no sklearn
import needed for the bootstrap loop)."""

from __future__ import annotations

import numpy as np


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties counted half); NaN when one class is absent."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision (area under the precision-recall step curve, as sklearn)."""
    y = np.asarray(y, dtype=bool)
    if not y.any():
        return float("nan")
    order = np.argsort(-np.asarray(s, dtype=float), kind="mergesort")
    ys, ss = y[order], np.asarray(s, dtype=float)[order]
    last = np.r_[np.flatnonzero(np.diff(ss)), ys.size - 1]  # end of each tie block
    tp = np.cumsum(ys)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


def reliability(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict:
    """Quantile-binned reliability curve and expected calibration error (ECE)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    bins = []
    ece = 0.0
    for b in range(max(len(edges) - 1, 1)):
        m = idx == b
        if not m.any():
            continue
        mp, my = float(p[m].mean()), float(y[m].mean())
        ece += m.mean() * abs(mp - my)
        bins.append({"mean_predicted": round(mp, 6), "observed_rate": round(my, 6),
                     "n": int(m.sum())})
    return {"bins": bins, "ece": round(float(ece), 6)}


def rates_at(y: np.ndarray, flagged: np.ndarray) -> dict:
    """Recall, precision, FNR, FPR and flag rate of binary decisions."""
    y, f = np.asarray(y, bool), np.asarray(flagged, bool)
    tp, fp = int((y & f).sum()), int((~y & f).sum())
    fn, tn = int((y & ~f).sum()), int((~y & ~f).sum())

    def div(a, b):
        return a / b if b else float("nan")

    return {"recall": div(tp, tp + fn), "precision": div(tp, tp + fp),
            "fnr": div(fn, tp + fn), "fpr": div(fp, fp + tn),
            "flag_rate": div(tp + fp, y.size), "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def bootstrap_ci(y: np.ndarray, scores: dict[str, np.ndarray], flagged: np.ndarray | None,
                 n_boot: int, level: float, seed: int) -> dict[str, dict]:
    """Percentile bootstrap CIs (students resampled with replacement).

    ``scores`` maps a name to a score array: each gets ``auc`` and ``average_precision``
    (and ``brier`` for the name ``model``); ``flagged`` adds recall, precision, FNR, FPR.
    Returns ``{metric: {"estimate", "low", "high"}}``.
    """
    y = np.asarray(y, bool)
    rng = np.random.default_rng(seed)
    fns = {}
    for name, s in scores.items():
        fns[f"{name}_auc"] = (lambda ii, s=s: auc(y[ii], s[ii]))
        fns[f"{name}_average_precision"] = (lambda ii, s=s: average_precision(y[ii], s[ii]))
    if "model" in scores:
        fns["model_brier"] = lambda ii: brier(y[ii], scores["model"][ii])
    if flagged is not None:
        for k in ("recall", "precision", "fnr", "fpr"):
            fns[k] = (lambda ii, k=k: rates_at(y[ii], flagged[ii])[k])
    full = np.arange(y.size)
    draws = {k: [] for k in fns}
    for _ in range(n_boot):
        ii = rng.integers(0, y.size, y.size)
        for k, f in fns.items():
            draws[k].append(f(ii))
    a = (1 - level) / 2
    out = {}
    for k, f in fns.items():
        d = np.asarray(draws[k], float)
        d = d[~np.isnan(d)]
        lo, hi = (np.quantile(d, [a, 1 - a]) if d.size else (np.nan, np.nan))
        out[k] = {"estimate": _r(f(full)), "low": _r(lo), "high": _r(hi)}
    return out


def _r(x) -> float | None:
    x = float(x)
    return None if np.isnan(x) else round(x, 6)
