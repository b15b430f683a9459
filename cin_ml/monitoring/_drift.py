"""Feature and score drift: a compact binned reference and the population stability index.

The reference (:func:`build_reference`) holds, for each model input, the inner edges of
quantile bins of the training cohorts (the distinct values when there are few: integer-coded
categories, counts) and the count per bin plus a missing bin, overall and per CSS. It is a
small JSON artifact logged at training (``monitoring/reference.json``).

PSI = sum_b (c_b - r_b) ln(c_b / r_b) over bin shares (half a student added to every bin of
both sides, so an empty bin is finite). A feature *drifts* when its PSI is at or above
``[drift] psi_threshold`` **and** beyond sampling noise: under no shift, PSI is about
chi2(k - 1) * (1/n + 1/m) (Jeffreys divergence of two multinomial samples), so the second
test is PSI above that law's (1 - alpha / number of tests) quantile. The first test is the
effect size the network cares about; the second keeps small CSS from raising false alarms.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["binned_counts", "build_reference", "drift_report", "psi", "psi_noise_bound",
           "score_shift"]


def _edges(values: np.ndarray, n_bins: int) -> list[float]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return []
    levels = np.unique(v)
    if levels.size <= n_bins:
        return [float(x) for x in (levels[:-1] + levels[1:]) / 2]
    q = np.unique(np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return [float(x) for x in q]


def binned_counts(values, edges: list[float]) -> np.ndarray:
    """Counts per bin: ``len(edges) + 1`` value bins, then one bin of missing values."""
    v = np.asarray(values, dtype="float64")
    ok = np.isfinite(v)
    idx = np.searchsorted(np.asarray(edges, float), v[ok], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype("int64")
    return np.append(counts, int((~ok).sum()))


def build_reference(X: pd.DataFrame, css: pd.Series | np.ndarray | None, scores=None,
                    threshold: float | None = None, n_bins: int = 10) -> dict:
    """Compact per-feature binned reference of the training cohorts (JSON-safe).

    Parameters
    ----------
    X : DataFrame
        Model inputs as the model sees them (float64, integer-coded categories).
    css : array-like, optional
        Each row's CSS, for the per-CSS counts.
    scores, threshold : optional
        Calibrated probabilities on a held-out cohort and the operating threshold: the score
        reference and the flag rate.
    """
    feats: dict[str, dict] = {}
    for col in X.columns:
        v = X[col].to_numpy(dtype="float64")
        e = _edges(v, n_bins)
        feats[str(col)] = {"edges": e, "counts": binned_counts(v, e).tolist()}
    out: dict = {"n": int(len(X)), "n_bins": n_bins, "features": feats, "by_css": {}}
    if css is not None:
        css = pd.Series(np.asarray(css).astype(str), index=X.index)
        for cid, rows in X.groupby(css.to_numpy(), sort=True):
            out["by_css"][str(cid)] = {
                "n": int(len(rows)),
                "counts": {str(c): binned_counts(rows[c].to_numpy(dtype="float64"),
                                                 feats[str(c)]["edges"]).tolist()
                           for c in X.columns}}
    if scores is not None:
        s = np.asarray(scores, float)
        e = _edges(s, n_bins)
        out["score"] = {"edges": e, "counts": binned_counts(s, e).tolist(), "n": int(s.size),
                        "flag_rate": (float(np.mean(s >= threshold))
                                      if threshold is not None else None)}
    return out


def psi(ref_counts, cur_counts) -> float:
    """Population stability index of two count vectors over the same bins."""
    r = np.asarray(ref_counts, float) + 0.5
    c = np.asarray(cur_counts, float) + 0.5
    r, c = r / r.sum(), c / c.sum()
    return float(np.sum((c - r) * np.log(c / r)))


def psi_noise_bound(ref_counts, cur_counts, alpha: float) -> float:
    """PSI that sampling noise alone exceeds with probability ``alpha`` (chi-square law)."""
    from scipy.stats import chi2

    k = int(np.sum((np.asarray(ref_counts) + np.asarray(cur_counts)) > 0))
    n, m = float(np.sum(cur_counts)), float(np.sum(ref_counts))
    if k < 2 or n == 0 or m == 0:
        return float("inf")
    return float(chi2.ppf(1 - alpha, k - 1) * (1 / n + 1 / m))


def _judge(ref, cur, threshold: float, alpha: float) -> dict:
    value = psi(ref, cur)
    bound = psi_noise_bound(ref, cur, alpha)
    return {"psi": round(value, 6), "noise_bound": round(min(bound, 1e9), 6),
            "drift": bool(value >= threshold and value > bound)}


def drift_report(reference: Mapping, X: pd.DataFrame, css=None, *, psi_threshold: float,
                 alpha: float, min_students: int) -> dict:
    """PSI of every model input of the cohort ``X`` against ``reference``, overall and per
    CSS (a CSS absent from the reference is ``new`` and compared with the whole reference).

    Returns a JSON-safe dict: ``features`` (name -> psi, noise_bound, drift), ``drifted``
    (names), ``max_psi``, ``css`` (id -> n, new, checked, drifted inputs, max_psi),
    ``drifted_css``.
    """
    feats = [f for f in reference["features"] if f in X.columns]
    per_test = alpha / max(len(feats), 1)
    out_f = {}
    for f in feats:
        spec = reference["features"][f]
        cur = binned_counts(X[f].to_numpy(dtype="float64"), spec["edges"])
        out_f[f] = _judge(spec["counts"], cur, psi_threshold, per_test)
    drifted = sorted(f for f, r in out_f.items() if r["drift"])
    out_css: dict[str, dict] = {}
    if css is not None:
        css = np.asarray(css).astype(str)
        groups = pd.Series(np.arange(len(X))).groupby(css).indices
        n_checked = sum(len(ix) >= min_students for ix in groups.values())
        per_css_test = alpha / max(len(feats) * max(n_checked, 1), 1)
        for cid in sorted(groups):
            ix = groups[cid]
            ref_css = reference.get("by_css", {}).get(cid)
            row = {"n": int(len(ix)), "new": ref_css is None and bool(reference.get("by_css")),
                   "checked": len(ix) >= min_students, "drifted": [], "max_psi": None}
            if row["checked"]:
                sub = X.iloc[ix]
                vals = {}
                for f in feats:
                    spec = reference["features"][f]
                    ref = ref_css["counts"][f] if ref_css else spec["counts"]
                    cur = binned_counts(sub[f].to_numpy(dtype="float64"), spec["edges"])
                    vals[f] = _judge(ref, cur, psi_threshold, per_css_test)
                row["drifted"] = sorted(f for f, r in vals.items() if r["drift"])
                row["max_psi"] = max((r["psi"] for r in vals.values()), default=None)
            out_css[cid] = row
    return {"features": out_f, "drifted": drifted,
            "max_psi": max((r["psi"] for r in out_f.values()), default=None),
            "css": out_css,
            "drifted_css": sorted(c for c, r in out_css.items() if r["new"] or r["drifted"])}


def score_shift(reference: Mapping, scores, threshold: float, *, psi_threshold: float,
                alpha: float, flag_rate_change: float, rate_alpha: float) -> dict:
    """PSI of the score distribution and the change of the share flagged against the
    reference's held-out cohort (two-proportion z-test at ``rate_alpha``)."""
    from scipy.stats import norm

    s = np.asarray(scores, float)
    ref = reference.get("score")
    if not ref:
        return {"available": False}
    cur = binned_counts(s, ref["edges"])
    out = {"available": True, **_judge(ref["counts"], cur, psi_threshold, alpha)}
    rate, rate0 = float(np.mean(s >= threshold)), ref.get("flag_rate")
    out.update({"flag_rate": rate, "reference_flag_rate": rate0})
    if rate0 is not None:
        n, m = s.size, ref["n"]
        pooled = (rate * n + rate0 * m) / (n + m)
        se = np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / m))
        z = abs(rate - rate0) / se
        out.update({"flag_rate_change": abs(rate - rate0),
                    "flag_rate_alarm": bool(abs(rate - rate0) >= flag_rate_change
                                            and z > norm.ppf(1 - rate_alpha / 2))})
    return out
