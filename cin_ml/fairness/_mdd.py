"""Minimum detectable difference (MDD) of an inconclusive verdict: the smallest gap to the
reference group that the data could have shown beyond tolerance at the policy's confidence.

A fail needs the whole interval of the difference beyond the tolerance; with an interval of
half-width ``h``, that takes a true gap of at least ``tolerance + h``. So an inconclusive
verdict says: "a gap smaller than this could not have been detected with these numbers".
"""

from __future__ import annotations

import math

from cin_ml.fairness._policy import FairnessPolicy

__all__ = ["breakdown_mdd", "group_mdd"]


def group_mdd(j: int, ref: int, ests: list[dict], verdicts: list[dict[str, str]],
         policy: FairnessPolicy) -> dict[str, float]:
    """Minimum detectable difference of each inconclusive metric of group ``j``: the smallest
    gap to the reference these data could have shown beyond tolerance at the policy's
    confidence, i.e. the difference tolerance plus the half-width of the difference's
    interval (for the reference, judged against every group: the widest of those)."""
    out = {}
    for m, v in verdicts[j].items():
        if v != "inconclusive":
            continue
        others = [j] if j != ref else [k for k in range(len(ests)) if k != ref
                                       and verdicts[k][m] != "insufficient_data"]
        half = [(ests[k]["d"][m].high - ests[k]["d"][m].low) / 2 for k in others]
        half = [h for h in half if math.isfinite(h)]
        if half:
            out[m] = policy.tolerances[m].difference + max(half)
    return out


def breakdown_mdd(groups, policy: FairnessPolicy) -> dict[str, float]:
    """Per metric whose breakdown verdict is inconclusive: the largest MDD of its
    inconclusive groups (the gap the weakest comparison could have detected)."""
    out = {}
    for m in policy.verdict_metrics:
        vals = [g.mdd[m] for g in groups if m in g.mdd]
        if vals:
            out[m] = max(vals)
    return out
