"""The fairness policy: what is audited, against what tolerances (``configs/fairness.toml``)."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cin_ml.config import Settings, load_settings

__all__ = ["DEFAULT_HARM_DIRECTION", "METRICS", "FairnessPolicy", "Tolerance", "load_policy"]

#: Per-group metrics the audit computes, in report order. Rates are in [0, 1].
METRICS: tuple[str, ...] = (
    "prevalence", "selection_rate", "recall", "fnr", "fpr", "precision", "fdr",
    "mean_score", "calibration_gap", "auc",
)
#: Metrics on which a verdict may be asked (``prevalence`` and ``mean_score`` describe groups).
VERDICT_METRICS: frozenset[str] = frozenset(METRICS) - {"prevalence", "mean_score"}
#: Metrics whose ratio is meaningless (a gap can be 0 or negative): difference only.
DIFFERENCE_ONLY: frozenset[str] = frozenset({"calibration_gap"})
#: Which way a disparity harms the group: "higher" (a higher rate is the harm), "lower", or
#: "two_sided" (both ways). ``[fairness.harm_direction]`` overrides these per metric.
DEFAULT_HARM_DIRECTION: dict[str, str] = {
    "fnr": "higher", "recall": "lower", "fpr": "higher", "fdr": "higher",
    "precision": "lower", "auc": "lower", "calibration_gap": "two_sided",
    "selection_rate": "two_sided",
}
HarmDirection = Literal["higher", "lower", "two_sided"]


class Tolerance(Settings):
    """Tolerance for one metric: a disparity inside it is acceptable.

    ``ratio`` bounds group / reference; ``difference`` bounds |group - reference|.
    Leave ``ratio`` out for a difference-only test.
    """

    ratio: tuple[float, float] | None = None
    difference: float = Field(gt=0, le=1)

    @field_validator("ratio")
    @classmethod
    def _ratio_brackets_one(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (0 < v[0] < 1 < v[1]):
            raise ValueError(f"ratio bounds must satisfy 0 < low < 1 < high; got {list(v)}")
        return v


class FairnessPolicy(Settings):
    """Section ``[fairness]`` of ``configs/fairness.toml`` (see the file for the meaning)."""

    attributes: tuple[str, ...] = Field(min_length=1)
    intersections: Literal["all_pairs", "none"] | tuple[tuple[str, ...], ...] = "all_pairs"
    primary_metric: str = "fnr"
    secondary_metrics: tuple[str, ...] = ()
    informational_metrics: tuple[str, ...] = ()
    harm_direction: dict[str, HarmDirection] = Field(default_factory=dict)
    reference: Literal["largest"] = "largest"
    reference_groups: dict[str, str] = Field(default_factory=dict)
    min_group_size: int = Field(default=50, ge=1)
    min_outcome_count: int = Field(default=10, ge=1)
    suppress_below: int = Field(default=10, ge=1)
    fnr_ceiling: float | Literal["relative"] = 0.5
    fnr_ceiling_factor: float = Field(default=1.5, gt=1, le=10)
    fnr_flags_shown: int = Field(default=5, ge=1, le=100)
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1)
    calibration_intercept_tolerance: float = Field(default=0.3, gt=0, le=2)
    calibration_slope_range: tuple[float, float] = (0.7, 1.3)
    n_boot: int = Field(default=500, ge=50, le=20000)
    seed: int = Field(default=0, ge=0)
    verdict_rule: Literal["both", "either"] = "both"
    tolerances: dict[str, Tolerance] = Field(default_factory=dict)
    mitigation_attribute: str | None = None
    mitigation_objective: Literal["balanced_accuracy_score", "accuracy_score"] = (
        "balanced_accuracy_score")

    @model_validator(mode="after")
    def _consistent(self) -> FairnessPolicy:
        if len(set(self.attributes)) != len(self.attributes):
            raise ValueError(f"attributes must be distinct; got {list(self.attributes)}")
        for m in self.verdict_metrics:
            if m not in VERDICT_METRICS:
                raise ValueError(f"unknown metric {m!r} in primary_metric/secondary_metrics; "
                                 f"choose from {sorted(VERDICT_METRICS)}")
            if m not in self.tolerances:
                raise ValueError(f"metric {m!r} has no [fairness.tolerances.{m}] table")
        for m in self.informational_metrics:
            if m not in VERDICT_METRICS:
                raise ValueError(f"informational_metrics: unknown metric {m!r}; choose from "
                                 f"{sorted(VERDICT_METRICS)}")
            if m in self.verdict_metrics:
                raise ValueError(f"informational_metrics: {m!r} is also in primary_metric/"
                                 "secondary_metrics (a metric is judged or informational)")
        for m in self.harm_direction:
            if m not in VERDICT_METRICS:
                raise ValueError(f"harm_direction.{m}: unknown metric")
        for m, tol in self.tolerances.items():
            if m not in VERDICT_METRICS:
                raise ValueError(f"tolerances.{m}: unknown metric")
            if m in DIFFERENCE_ONLY and tol.ratio is not None:
                raise ValueError(f"tolerances.{m}.ratio: {m} takes a difference tolerance only")
        if isinstance(self.intersections, tuple):
            for combo in self.intersections:
                if len(combo) < 2 or len(set(combo)) != len(combo):
                    raise ValueError(f"intersections: {list(combo)} needs 2+ distinct attributes")
                unknown = [a for a in combo if a not in self.attributes]
                if unknown:
                    raise ValueError(f"intersections: {unknown} not in attributes")
        unknown = [a for a in self.reference_groups if a not in self.attributes]
        if unknown:
            raise ValueError(f"reference_groups: {unknown} not in attributes")
        if self.mitigation_attribute is not None and \
                self.mitigation_attribute not in self.attributes:
            raise ValueError(f"mitigation_attribute: {self.mitigation_attribute!r} "
                             "not in attributes")
        if not isinstance(self.fnr_ceiling, str) and not 0 < self.fnr_ceiling <= 1:
            raise ValueError(f"fnr_ceiling must be \"relative\" or a number in (0, 1]; "
                             f"got {self.fnr_ceiling}")
        if self.suppress_below > self.min_group_size:
            raise ValueError("suppress_below must be <= min_group_size (a group published with "
                             "no numbers cannot be judged either)")
        return self

    def resolved_fnr_ceiling(self, overall_fnr: float) -> float:
        """The FNR above which a group is flagged: the explicit ``fnr_ceiling``, or (when it
        is ``"relative"``) the model's overall FNR times ``fnr_ceiling_factor``, capped at 1."""
        if isinstance(self.fnr_ceiling, str):
            if math.isnan(overall_fnr):  # no at-risk student at all: nothing to flag
                return 1.0
            return min(1.0, overall_fnr * self.fnr_ceiling_factor)
        return float(self.fnr_ceiling)

    @property
    def verdict_metrics(self) -> tuple[str, ...]:
        """Primary metric then the secondary ones, without repeats."""
        return tuple(dict.fromkeys((self.primary_metric, *self.secondary_metrics)))

    def direction(self, metric: str) -> str:
        """Harm direction of ``metric``: ``"higher"``, ``"lower"`` or ``"two_sided"``."""
        return self.harm_direction.get(metric, DEFAULT_HARM_DIRECTION.get(metric, "two_sided"))

    @property
    def groupings(self) -> tuple[tuple[str, ...], ...]:
        """Single attributes, then the intersections to audit."""
        singles = tuple((a,) for a in self.attributes)
        if self.intersections == "none":
            return singles
        if self.intersections == "all_pairs":
            return singles + tuple(combinations(self.attributes, 2))
        return singles + tuple(self.intersections)

    def with_attributes(self, attributes: tuple[str, ...]) -> FairnessPolicy:
        """Copy restricted to ``attributes`` (explicit intersections outside them dropped)."""
        inter = self.intersections
        if isinstance(inter, tuple):
            inter = tuple(c for c in inter if set(c) <= set(attributes))
        refs = {k: v for k, v in self.reference_groups.items() if k in attributes}
        mit = self.mitigation_attribute if self.mitigation_attribute in attributes else None
        return self.model_copy(update={"attributes": tuple(attributes), "intersections": inter,
                                       "reference_groups": refs, "mitigation_attribute": mit})


def load_policy(path: Path | str | None = None) -> FairnessPolicy:
    """Load the ``[fairness]`` section of ``configs/fairness.toml`` (or ``path``).

    Raises
    ------
    ConfigError
        Unknown keys or out-of-range values, naming the file, section and key.
    """
    return load_settings(FairnessPolicy, "fairness", path=path, section="fairness")
