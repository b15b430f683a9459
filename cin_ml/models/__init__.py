"""LightGBM risk models: cohort-over-time validation, grouped-CV tuning, calibration,
capacity thresholds, baselines and bootstrap confidence intervals.

Heavy libraries (lightgbm, sklearn, matplotlib) are imported inside the functions that use
them. The trained booster returns calibrated probabilities (a Platt recalibration, when
applied, is folded into its leaves), so ``booster.predict`` on the encoded matrix is the
model's score.
"""

from cin_ml.models._booster import category_maps, encode
from cin_ml.models._cohorts import calibration_fit, calibration_fit_full
from cin_ml.models._metrics import (
    auc,
    average_precision,
    bootstrap_ci,
    brier,
    rates_at,
    reliability,
)
from cin_ml.models._monotone import feature_constraint, monotone_constraints
from cin_ml.models._names import is_positional, model_input_names
from cin_ml.models._plain import PlainModel, fit_plain
from cin_ml.models._plots import evaluation_figures
from cin_ml.models._settings import (
    PARALLEL_MIN_ROWS,
    ModelSettings,
    MonotoneSettings,
    available_cores,
    load_model_settings,
    resolve_threads,
)
from cin_ml.models._split import CohortSplit, RollingPlan, cohort_split, rolling_plan
from cin_ml.models._train import TrainingResult, choose_threshold, train_model

__all__ = [
    "PARALLEL_MIN_ROWS",
    "CohortSplit",
    "ModelSettings",
    "MonotoneSettings",
    "PlainModel",
    "RollingPlan",
    "TrainingResult",
    "auc",
    "available_cores",
    "average_precision",
    "bootstrap_ci",
    "calibration_fit",
    "calibration_fit_full",
    "brier",
    "category_maps",
    "choose_threshold",
    "cohort_split",
    "encode",
    "evaluation_figures",
    "feature_constraint",
    "fit_plain",
    "is_positional",
    "load_model_settings",
    "model_input_names",
    "monotone_constraints",
    "rates_at",
    "reliability",
    "rolling_plan",
    "resolve_threads",
    "train_model",
]
