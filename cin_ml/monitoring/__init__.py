"""Monitoring of a served model over the next cohorts (``cin-ml monitor``; issue 22).

Pure functions over arrays and frames (no mlflow, no I/O): :mod:`cin_ml.pipeline` wires
them. docs/architecture.md, sections "Data flow" and "Governance model".

Public API::

    ref = build_reference(X_train, css, scores=test_scores, threshold=t)   # at training
    drift_report(ref, X_now, css_now, psi_threshold=0.2, alpha=1e-3, min_students=100)
    estimate_performance(p, threshold, n_simulations=1000, level=0.95)   # before labels
    realized_performance(y, p, threshold)                                 # once labels exist
    parse_condition("fnr_gap(intervention_plan) <= 0.25")                # -> Condition
    evaluate_conditions(conditions, report.values)                        # -> [ConditionState]
    build_report(model=..., reference=ref, X=..., css=..., scores=..., ...)  # -> MonitoringReport
    monitor_extract(bundle, tables, ref, settings, after_cohort=test_cohort)  # extract -> report
    load_monitoring_settings()                                            # configs/monitoring.toml
"""

from __future__ import annotations

from cin_ml.monitoring._cohorts import CohortScores, monitor_extract, score_cohorts
from cin_ml.monitoring._conditions import (
    CONDITION_METRICS,
    GROUP_ATTRIBUTES,
    GROUP_METRICS,
    Condition,
    ConditionState,
    evaluate_conditions,
    parse_condition,
    parse_conditions,
)
from cin_ml.monitoring._drift import (
    binned_counts,
    build_reference,
    drift_report,
    psi,
    psi_noise_bound,
    score_shift,
)
from cin_ml.monitoring._estimate import (
    estimate_performance,
    group_gaps,
    realized_performance,
)
from cin_ml.monitoring._report import LabelledCohort, MonitoringReport, build_report
from cin_ml.monitoring._settings import MonitoringSettings, load_monitoring_settings

__all__ = [
    "CONDITION_METRICS",
    "GROUP_ATTRIBUTES",
    "GROUP_METRICS",
    "CohortScores",
    "Condition",
    "ConditionState",
    "LabelledCohort",
    "MonitoringReport",
    "MonitoringSettings",
    "binned_counts",
    "build_reference",
    "build_report",
    "drift_report",
    "estimate_performance",
    "evaluate_conditions",
    "group_gaps",
    "load_monitoring_settings",
    "monitor_extract",
    "parse_condition",
    "parse_conditions",
    "psi",
    "psi_noise_bound",
    "realized_performance",
    "score_cohorts",
    "score_shift",
]
