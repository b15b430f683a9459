"""Fairness audit of a risk model's predictions (Fairlearn-compatible, vectorised).

Public names:

- :class:`FairnessPolicy`, :func:`load_policy` — the policy as code (``configs/fairness.toml``).
- :func:`audit` → :class:`FairnessAudit` — per-group rates with bootstrap intervals,
  disparities to a reference group, verdicts pass / fail / inconclusive / insufficient_data
  judged in each metric's harm direction (the reference group included; rule in
  ``cin_ml.fairness._audit``), informational metrics without verdict, absolute FNR ceiling
  flags; small cells suppressed in every output.
- :func:`mitigation_experiment` → :class:`MitigationExperiment` — post-processing
  (Fairlearn ``ThresholdOptimizer``, group-aware thresholds) against the base model; an arm
  the data cannot support is recorded as not computed, with the reason.
- :func:`plot_disparities`, :func:`plot_group_rates`, :func:`plot_tradeoff` — figures.

The package takes arrays and frames; it imports neither mlflow nor ``cin_ml.explain``.
Fairlearn, scikit-learn and matplotlib are imported only where used.
"""

from __future__ import annotations

from cin_ml.fairness._audit import audit
from cin_ml.fairness._calibration import calibration_within_groups
from cin_ml.fairness._mitigation import (
    MITIGATION_STATEMENT,
    MitigationExperiment,
    MitigationRow,
    mitigation_experiment,
)
from cin_ml.fairness._plots import plot_disparities, plot_group_rates, plot_tradeoff
from cin_ml.fairness._policy import METRICS, FairnessPolicy, Tolerance, load_policy
from cin_ml.fairness._records import (
    BreakdownResult,
    Estimate,
    FairnessAudit,
    FnrFlag,
    GroupResult,
)

__all__ = [
    "METRICS",
    "MITIGATION_STATEMENT",
    "BreakdownResult",
    "Estimate",
    "FairnessAudit",
    "FairnessPolicy",
    "FnrFlag",
    "GroupResult",
    "MitigationExperiment",
    "MitigationRow",
    "Tolerance",
    "audit",
    "calibration_within_groups",
    "load_policy",
    "mitigation_experiment",
    "plot_disparities",
    "plot_group_rates",
    "plot_tradeoff",
]
