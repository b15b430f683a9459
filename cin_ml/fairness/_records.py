"""Frozen result records of the audit, and their published (suppressed) dictionary form."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

__all__ = ["BreakdownResult", "Estimate", "FairnessAudit", "FnrFlag", "GroupResult",
           "VERDICT_ORDER"]

#: Verdicts from worst to best; an attribute takes the worst verdict of its groups.
VERDICT_ORDER = ("fail", "inconclusive", "insufficient_data", "pass")


def _num(x: float | None, digits: int = 6) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap percentile interval (NaN when undefined)."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict:
        return {"value": _num(self.value), "low": _num(self.low), "high": _num(self.high)}


NAN = Estimate(math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class GroupResult:
    """One group of a breakdown. Suppressed groups carry no numbers at all (``n`` is None)."""

    labels: tuple[str, ...]
    n: int | None
    counts: Mapping[str, int | None]
    metrics: Mapping[str, Estimate]
    difference: Mapping[str, Estimate]
    ratio: Mapping[str, Estimate]
    verdicts: Mapping[str, str]
    is_reference: bool
    suppressed: str | None  # None, "small" (n below the cell size) or "complementary"
    mdd: Mapping[str, float] = dataclass_field(default_factory=dict)
    """Minimum detectable difference of each inconclusive metric (tolerance + half-width of
    the difference's interval): the smallest gap these data could have shown."""

    @property
    def label(self) -> str:
        return " × ".join(self.labels)

    def to_dict(self) -> dict:
        hidden = self.suppressed is not None
        return {
            "labels": list(self.labels),
            "is_reference": self.is_reference,
            "suppressed": self.suppressed,
            "n": None if hidden else self.n,
            "counts": {k: (None if hidden else v) for k, v in self.counts.items()},
            "metrics": {k: (NAN if hidden else e).to_dict() for k, e in self.metrics.items()},
            "difference": {k: (NAN if hidden else e).to_dict()
                           for k, e in self.difference.items()},
            "ratio": {k: (NAN if hidden else e).to_dict() for k, e in self.ratio.items()},
            "verdicts": dict(self.verdicts),
            "mdd": {} if hidden else {k: _num(v) for k, v in self.mdd.items()},
        }


@dataclass(frozen=True)
class BreakdownResult:
    """An attribute or an intersection: its groups, reference and verdict per metric."""

    attributes: tuple[str, ...]
    reference: tuple[str, ...]
    groups: tuple[GroupResult, ...]
    verdicts: Mapping[str, str]
    mdd: Mapping[str, float] = dataclass_field(default_factory=dict)

    @property
    def name(self) -> str:
        return " × ".join(self.attributes)

    def group(self, *labels: str) -> GroupResult:
        for g in self.groups:
            if g.labels == tuple(labels):
                return g
        raise KeyError(f"{self.name}: no group {labels!r}")

    def to_dict(self) -> dict:
        return {"attributes": list(self.attributes), "name": self.name,
                "reference": list(self.reference), "verdicts": dict(self.verdicts),
                "mdd": {k: _num(v) for k, v in self.mdd.items()},
                "groups": [g.to_dict() for g in self.groups]}


@dataclass(frozen=True)
class FnrFlag:
    """A published group whose absolute FNR is above the policy ceiling, whatever its ratio."""

    breakdown: str
    labels: tuple[str, ...]
    fnr: Estimate
    confirmed: bool  # the whole interval is above the ceiling
    suppressed: bool

    def to_dict(self) -> dict:
        return {"breakdown": self.breakdown, "labels": list(self.labels),
                "fnr": (NAN if self.suppressed else self.fnr).to_dict(),
                "confirmed": self.confirmed, "suppressed": self.suppressed}


@dataclass(frozen=True)
class FairnessAudit:
    """Result of :func:`cin_ml.fairness.audit`.

    Numbers of groups below ``policy.suppress_below`` (and their complementary cells) are
    removed when the record is built, so no output made from it can show them.
    """

    n: int
    threshold: float
    n_boot: int
    seed: int
    policy: Mapping
    overall: Mapping[str, Estimate]
    breakdowns: tuple[BreakdownResult, ...]
    fnr_flags: tuple[FnrFlag, ...]
    has_truth: bool
    fnr_ceiling: float = math.nan  # the ceiling applied (explicit or relative to overall FNR)

    def breakdown(self, *attributes: str) -> BreakdownResult:
        """The breakdown of these attributes (order as in the policy)."""
        for b in self.breakdowns:
            if b.attributes == tuple(attributes) or set(b.attributes) == set(attributes) \
                    and len(b.attributes) == len(attributes):
                return b
        raise KeyError(f"no breakdown {' × '.join(attributes)} in this audit")

    def verdict(self, attribute: str | tuple[str, ...], metric: str) -> str:
        """Verdict of one attribute (or intersection) on one metric."""
        attrs = (attribute,) if isinstance(attribute, str) else tuple(attribute)
        return self.breakdown(*attrs).verdicts[metric]

    @property
    def verdict_table(self) -> dict[str, dict[str, str]]:
        """``{breakdown name: {metric: verdict}}`` in policy order."""
        return {b.name: dict(b.verdicts) for b in self.breakdowns}

    @property
    def worst_verdict(self) -> str:
        found = {v for b in self.breakdowns for v in b.verdicts.values()}
        return next((v for v in VERDICT_ORDER if v in found), "insufficient_data")

    def to_dict(self) -> dict:
        """JSON-safe published form (suppressed cells have no numbers), stable key order."""
        return {
            "kind": "fairness_audit",
            "n": self.n,
            "threshold": _num(self.threshold),
            "n_boot": self.n_boot,
            "seed": self.seed,
            "has_truth": self.has_truth,
            "policy": dict(self.policy),
            "overall": {k: e.to_dict() for k, e in self.overall.items()},
            "worst_verdict": self.worst_verdict,
            "verdicts": self.verdict_table,
            "fnr_ceiling": _num(self.fnr_ceiling),
            "fnr_ceiling_flags": [f.to_dict() for f in self.fnr_flags],
            "breakdowns": [b.to_dict() for b in self.breakdowns],
        }
