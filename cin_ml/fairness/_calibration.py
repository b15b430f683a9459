"""Calibration within groups: calibration intercept and slope of every group of each audited
attribute, with bootstrap intervals and a verdict (``configs/fairness.toml``,
``calibration_intercept_tolerance`` and ``calibration_slope_range``).

A group passes when both intervals lie inside the tolerance (its risks are right on average
and neither too extreme nor too timid), fails when either lies wholly outside, is
inconclusive otherwise, and has insufficient data under the audit's size rules (students, or
at-risk students). Small groups are suppressed as in the audit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cin_ml.fairness._core import resample_counts
from cin_ml.fairness._policy import FairnessPolicy
from cin_ml.models import calibration_fit, calibration_fit_full

__all__ = ["calibration_within_groups"]


def _verdict(lo_i, hi_i, lo_s, hi_s, policy: FairnessPolicy) -> str:
    if not all(math.isfinite(v) for v in (lo_i, hi_i, lo_s, hi_s)):
        return "insufficient_data"
    t = policy.calibration_intercept_tolerance
    a, b = policy.calibration_slope_range
    inside = -t <= lo_i and hi_i <= t and a <= lo_s and hi_s <= b
    outside = lo_i > t or hi_i < -t or lo_s > b or hi_s < a
    return "fail" if outside else ("pass" if inside else "inconclusive")


def calibration_within_groups(y_true, y_score, groups: pd.DataFrame, policy: FairnessPolicy,
                              *, n_boot: int | None = None, seed: int | None = None) -> dict:
    """Per attribute and group: n, calibration intercept and slope (estimate, low, high) and
    a verdict; per attribute the worst verdict. JSON-ready (suppressed groups: no numbers)."""
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    n_boot = policy.n_boot if n_boot is None else int(n_boot)
    seed = policy.seed if seed is None else int(seed)
    q = ((1 - policy.confidence_level) / 2, (1 + policy.confidence_level) / 2)
    blocks = list(resample_counts(len(y), n_boot, seed))
    out = []
    order = ("fail", "inconclusive", "insufficient_data", "pass")
    for attr in policy.attributes:
        col = groups[attr].astype("object").where(groups[attr].notna(), "(missing)").astype(str)
        rows = []
        for level in sorted(col.unique()):
            m = (col == level).to_numpy()
            n, pos = int(m.sum()), int(y[m].sum())
            if n < policy.suppress_below:
                rows.append({"group": level, "suppressed": True, "n": None,
                             "verdict": "insufficient_data"})
                continue
            if n < policy.min_group_size or min(pos, n - pos) < policy.min_outcome_count:
                rows.append({"group": level, "suppressed": False, "n": n,
                             "verdict": "insufficient_data"})
                continue
            i0, a0, s0 = calibration_fit_full(y[m], s[m])
            start = (float(i0[0]), float(a0[0]), float(s0[0]))
            ib, sb = [], []
            for w in blocks:   # replicates start from the full-sample fit: 6 steps suffice
                a, b = calibration_fit(y[m], s[m], w[:, m], n_iter=6, start=start)
                ib.append(a)
                sb.append(b)
            ib, sb = np.concatenate(ib), np.concatenate(sb)
            li, hi = np.nanquantile(ib, q)
            ls, hs = np.nanquantile(sb, q)
            rows.append({"group": level, "suppressed": False, "n": n,
                         "intercept": {"value": round(float(i0[0]), 6), "low": round(float(li), 6),
                                       "high": round(float(hi), 6)},
                         "slope": {"value": round(float(s0[0]), 6), "low": round(float(ls), 6),
                                   "high": round(float(hs), 6)},
                         "verdict": _verdict(li, hi, ls, hs, policy)})
        worst = next((v for v in order if any(r["verdict"] == v for r in rows)),
                     "insufficient_data")
        out.append({"attribute": attr, "verdict": worst, "groups": rows})
    return {"intercept_tolerance": policy.calibration_intercept_tolerance,
            "slope_range": list(policy.calibration_slope_range), "breakdowns": out}
