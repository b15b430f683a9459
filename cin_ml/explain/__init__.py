"""Explanations of LightGBM risk models: exact per-student contributions (LightGBM's native
``pred_contrib``, i.e. tree-path-dependent SHAP values in log-odds space), global importance
per feature, family and audited group with a stability report, per-student reasons verified
counterfactually on the calibrated model (weights in probability points) in French and
English, and a one-page explanation sheet per student.

Sibling of ``cin_ml.fairness`` (neither imports the other); never imports mlflow. Public
names resolve lazily (PEP 562): importing this package loads no heavy library; LightGBM,
shap and matplotlib are imported by the functions that use them.
"""

from __future__ import annotations

import warnings as _warnings

from cin_ml._lazy import lazy_exports

# shap imports tqdm.auto: no "IProgress not found" warning in notebooks (see cin_ml.tracking)
_warnings.filterwarnings("ignore", message="IProgress not found")

_EXPORTS: dict[str, str] = {
    # contributions
    "Contributions": "_contrib",
    "ExplainerInfo": "_contrib",
    "additivity_bound": "_contrib",
    "compute_contributions": "_contrib",
    "contributions_from_frame": "_contrib",
    # counterfactual reasons
    "check_reasons": "_counterfactual",
    "implied_sign": "_counterfactual",
    "model_directions": "_counterfactual",
    "reason_units": "_counterfactual",
    "truth_agreement": "_counterfactual",
    # cohort orchestration (pure)
    "Explanation": "_explain",
    "Selection": "_explain",
    "explain_cohort": "_explain",
    "select_students": "_explain",
    # features
    "describe_feature": "_features",
    "family_map": "_features",
    "sensitive_features": "_features",
    # global
    "GlobalExplanation": "_global",
    "RankAgreement": "_global",
    "Stability": "_global",
    "compare_rankings": "_global",
    "global_importance": "_global",
    "mean_abs": "_global",
    "stability": "_global",
    # per student
    "Reason": "_reasons",
    "StudentExplanation": "_reasons",
    "explain_students": "_reasons",
    "format_points": "_reasons",
    "format_value": "_reasons",
    "reference_values": "_reasons",
    "render_sheet": "_sheet",
    # plots
    "beeswarm": "_plots",
    "dependence": "_plots",
    "family_bars": "_plots",
    "group_bars": "_plots",
    # settings
    "ExplainSettings": "_settings",
    "SheetSettings": "_settings",
    "load_explain_settings": "_settings",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
