"""Per-cohort evidence of rolling-origin validation: AUC, recall at capacity, calibration
intercept and slope, ECE, each with a percentile bootstrap interval, and a stability summary.

Calibration intercept is calibration-in-the-large (logistic regression of the outcome with
the score's logit as offset: 0 when the mean risk is right); slope is the coefficient of the
logit in ``y ~ a + b·logit(score)`` (1 when risks are neither too extreme nor too timid).
Both are fitted by Newton's method, vectorised over bootstrap replicates (count weights).
"""

from __future__ import annotations

import numpy as np

from cin_ml.models import _metrics as M

__all__ = ["calibration_fit", "calibration_fit_full", "cohort_table", "stability"]

_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def calibration_fit(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None,
                    n_iter: int = 30, start: tuple[float, float, float] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Calibration intercept (offset model) and slope for each row of weights ``w`` (r, n).

    ``start`` (intercept, slope model's intercept, slope) warm-starts Newton's method, e.g.
    bootstrap replicates from the full-sample fit (a few iterations then suffice).
    Returns two arrays of length r (NaN when a replicate has a single class).
    """
    a0, _, b = calibration_fit_full(y, p, w, n_iter, start)
    return a0, b


def calibration_fit_full(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None,
                         n_iter: int = 30, start: tuple[float, float, float] | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`calibration_fit`, with the slope model's intercept too (a warm start)."""
    y = np.asarray(y, float)
    x = _logit(p)
    w = np.ones((1, len(y))) if w is None else np.atleast_2d(np.asarray(w, float))
    r = len(w)
    i0, a_start, b_start = start if start is not None else (0.0, 0.0, 1.0)
    a0 = np.full(r, float(i0))                        # intercept with slope fixed at 1
    for _ in range(n_iter):
        mu = 1 / (1 + np.exp(-(a0[:, None] + x)))
        g = (w * (y - mu)).sum(1)
        h = (w * mu * (1 - mu)).sum(1)
        a0 = a0 + np.divide(g, h, out=np.zeros(r), where=h > 0)
    a, b = np.full(r, float(a_start)), np.full(r, float(b_start))   # y ~ a + b x
    for _ in range(n_iter):
        mu = 1 / (1 + np.exp(-(a[:, None] + b[:, None] * x)))
        res, v = w * (y - mu), w * mu * (1 - mu)
        g0, g1 = res.sum(1), (res * x).sum(1)
        h00, h01, h11 = v.sum(1), (v * x).sum(1), (v * x * x).sum(1)
        det = h00 * h11 - h01 ** 2
        ok = det > 1e-12
        da = np.divide(h11 * g0 - h01 * g1, det, out=np.zeros(r), where=ok)
        db = np.divide(h00 * g1 - h01 * g0, det, out=np.zeros(r), where=ok)
        a, b = a + np.clip(da, -5, 5), b + np.clip(db, -5, 5)
    pos = (w * y).sum(1)
    single = (pos <= 0) | (pos >= w.sum(1))
    a0[single], b[single] = np.nan, np.nan
    a[single] = np.nan
    return a0, a, b


def _top_share(score: np.ndarray, share: float) -> np.ndarray:
    k = int(np.ceil(share * len(score)))
    flagged = np.zeros(len(score), dtype=bool)
    if k > 0:
        flagged[np.argsort(-score, kind="stable")[:k]] = True
    return flagged


def _recall_at(y: np.ndarray, score: np.ndarray, share: float) -> float:
    f = _top_share(score, share)
    pos = y.sum()
    return float((f & (y == 1)).sum() / pos) if pos else float("nan")


def _interval(est: float, draws: np.ndarray, level: float) -> dict:
    d = np.asarray(draws, float)
    d = d[np.isfinite(d)]
    a = (1 - level) / 2
    lo, hi = (np.quantile(d, [a, 1 - a]) if d.size else (np.nan, np.nan))
    return {"estimate": M._r(est), "low": M._r(lo), "high": M._r(hi)}


def cohort_row(y: np.ndarray, score: np.ndarray, flagged: np.ndarray, capacity: float,
               n_bins: int, n_boot: int, level: float, seed: int) -> dict:
    """AUC, recall at capacity (top ``capacity`` share of the cohort), recall at the fold's
    threshold, calibration intercept/slope and ECE with bootstrap intervals."""
    y = np.asarray(y, int)
    score = np.asarray(score, float)
    flagged = np.asarray(flagged, bool)
    n = len(y)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, (n_boot, n))
    stats = {"auc": [], "recall_at_capacity": [], "ece": []}
    for ii in idx:
        yi, si = y[ii], score[ii]
        stats["auc"].append(M.auc(yi, si))
        stats["recall_at_capacity"].append(_recall_at(yi, si, capacity))
        stats["ece"].append(M.reliability(yi, si, n_bins)["ece"])
    counts = np.stack([np.bincount(ii, minlength=n) for ii in idx]).astype(float)
    ci, cs = calibration_fit(y, score, counts)
    i0, s0 = calibration_fit(y, score)
    pos = int(y.sum())
    rate = M.rates_at(y, flagged)
    return {
        "n": n, "events": pos, "event_rate": M._r(y.mean()),
        "auc": _interval(M.auc(y, score), stats["auc"], level),
        "recall_at_capacity": _interval(_recall_at(y, score, capacity),
                                        stats["recall_at_capacity"], level),
        "calibration_intercept": _interval(i0[0], ci, level),
        "calibration_slope": _interval(s0[0], cs, level),
        "ece": _interval(M.reliability(y, score, n_bins)["ece"], stats["ece"], level),
        "recall_at_threshold": M._r(rate["recall"]), "flag_rate": M._r(rate["flag_rate"]),
    }


def cohort_table(test, capacity: float, n_bins: int, n_boot: int, level: float,
                 seed: int) -> list[dict]:
    """One row per test cohort of the pooled predictions ``test`` (cohort_year, y_true,
    score, flagged), oldest first."""
    rows = []
    for c, part in test.groupby("cohort_year", sort=True):
        row = cohort_row(part["y_true"].to_numpy(), part["score"].to_numpy(),
                         part["flagged"].to_numpy(), capacity, n_bins, n_boot, level,
                         seed + int(c))
        rows.append({"cohort": int(c), **row})
    return rows


def stability(rows: list[dict], pandemic_year: int | None = None) -> dict:
    """Range of AUC and recall at capacity across test cohorts, whether the cohort intervals
    overlap, and the cohort(s) whose AUC is lowest."""
    if not rows:
        return {}
    aucs = [r["auc"]["estimate"] for r in rows if r["auc"]["estimate"] is not None]
    recs = [r["recall_at_capacity"]["estimate"] for r in rows
            if r["recall_at_capacity"]["estimate"] is not None]
    lows = [r["auc"]["low"] for r in rows if r["auc"]["low"] is not None]
    highs = [r["auc"]["high"] for r in rows if r["auc"]["high"] is not None]
    worst = min(rows, key=lambda r: r["auc"]["estimate"] if r["auc"]["estimate"] is not None
                else np.inf)
    out = {"n_cohorts": len(rows),
           "auc_range": [M._r(min(aucs)), M._r(max(aucs))] if aucs else None,
           "auc_spread": M._r(max(aucs) - min(aucs)) if aucs else None,
           "recall_range": [M._r(min(recs)), M._r(max(recs))] if recs else None,
           "intervals_overlap": bool(lows and highs and max(lows) <= min(highs)),
           "lowest_auc_cohort": worst["cohort"]}
    if pandemic_year is not None:
        out["pandemic_year"] = int(pandemic_year)
        out["pandemic_tested"] = any(r["cohort"] == pandemic_year for r in rows)
    return out


def top_share_by_cohort(scores: np.ndarray, cohorts: np.ndarray, share: float) -> np.ndarray:
    """Flags for the top ``share`` of each cohort (the served capacity, cohort by cohort)."""
    flagged = np.zeros(len(scores), dtype=bool)
    for c in np.unique(cohorts):
        idx = np.flatnonzero(cohorts == c)
        flagged[idx] = _top_share(scores[idx], share)
    return flagged


def context_comparison(y: np.ndarray, model: np.ndarray, context: np.ndarray,
                       cohorts: np.ndarray, capacity: float, n_boot: int, level: float,
                       seed: int) -> dict:
    """Recall at the served capacity (top ``capacity`` of each test cohort) of the model and
    of the context-only model on the same students, and their difference with a paired
    percentile bootstrap interval (students resampled)."""
    y = np.asarray(y, int)
    fm = top_share_by_cohort(np.asarray(model, float), cohorts, capacity)
    fc = top_share_by_cohort(np.asarray(context, float), cohorts, capacity)
    hit_m, hit_c = (fm & (y == 1)).astype(float), (fc & (y == 1)).astype(float)
    rng = np.random.default_rng(seed)
    n = len(y)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n)
        pos = float((w * y).sum())
        diffs[i] = ((w * hit_m).sum() - (w * hit_c).sum()) / pos if pos else np.nan
    pos = y.sum()
    rm = hit_m.sum() / pos if pos else float("nan")
    rc = hit_c.sum() / pos if pos else float("nan")
    return {"capacity": capacity, "recall_at_capacity": M._r(rm),
            "context_recall_at_capacity": M._r(rc),
            "difference": _interval(rm - rc, diffs, level)}
