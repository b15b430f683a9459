"""The card's at-a-glance FNR verdicts of an audit, each checked against the simulator's truth.

The at-a-glance rows are the audited attributes, one row each, and the intersections as one
row (the worst of the pairs). Truth, per row: the true FNR of every group is the expected
share of its truly at-risk students left unflagged (``fnr_true``: ``sum(p_true * (1 -
flagged)) / sum(p_true)``, from an audit given ``p_true``). A "fail" contradicts the truth
when no judged group is truly worse off than its reference by more than the difference
tolerance; a "pass" contradicts it when one is. Shared by tests/fairness and
benchmarks/pooled_audit.py.
"""

from __future__ import annotations

from dataclasses import dataclass

_ORDER = ("fail", "inconclusive", "insufficient_data", "pass")


@dataclass(frozen=True)
class GlanceRow:
    name: str
    verdict: str
    true_gap: float | None      # largest true FNR gap of a judged group (None: intersections)
    contradicts: bool
    mdd: float | None
    detail: str = ""


def true_worst_gap(b) -> float:
    """Largest true FNR gap of a judged group against its reference (either side harmed:
    the reference is judged too)."""
    ref = next(g for g in b.groups if g.is_reference)
    worst = 0.0
    for g in b.groups:
        if g.is_reference or g.verdicts["fnr"] == "insufficient_data":
            continue
        gap = g.metrics["fnr_true"].value - ref.metrics["fnr_true"].value
        if gap == gap:
            worst = max(worst, abs(gap))
    return worst


def _contradicts(verdict: str, gap: float, tol: float) -> bool:
    return (verdict == "fail" and gap <= tol) or (verdict == "pass" and gap > tol)


def at_a_glance(fair, policy) -> list[GlanceRow]:
    """One row per audited attribute, then the intersections (worst of the pairs)."""
    if not fair.has_truth:
        raise ValueError("the audit was not given p_true: no truth to check against")
    tol = policy.tolerances["fnr"].difference
    rows = []
    for b in fair.breakdowns:
        if len(b.attributes) == 1:
            v, gap = b.verdicts["fnr"], true_worst_gap(b)
            rows.append(GlanceRow(b.name, v, gap, _contradicts(v, gap, tol),
                                  b.mdd.get("fnr")))
    inter = [b for b in fair.breakdowns if len(b.attributes) > 1]
    worst = next((o for o in _ORDER if any(b.verdicts["fnr"] == o for b in inter)), "—")
    bad = [b.name for b in inter if b.verdicts["fnr"] in ("pass", "fail")
           and _contradicts(b.verdicts["fnr"], true_worst_gap(b), tol)]
    rows.append(GlanceRow("intersections (worst)", worst, None, bool(bad), None,
                          f"contradicting pairs: {bad}"))
    return rows
