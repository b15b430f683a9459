"""Student-level features at a prediction point, and the feature policy.

Feature names (docs/CONTRACTS.md): ``{competency}_g{grade}_{stat}`` (stat in mean, min,
last, trend, volatility), ``{competency}_n_below_60``, ``absence_rate_{category}``,
``absence_rate_total``, ``intervention_plan``, ``n_retentions``, ``n_school_changes``,
``imse_decile``, ``mother_education``. :func:`feature_family` maps a name to its family.
"""

from cin_ml.features._build import (
    AUDIT_ATTRIBUTES,
    MARK_STATS,
    NOMENCLATURE,
    FeatureFrame,
    build_features,
)
from cin_ml.features._policy import (
    FeaturePolicy,
    PolicyDecision,
    decide_policy,
    feature_family,
    feature_sources,
)
from cin_ml.features._settings import (
    BuildSettings,
    FeatureSettings,
    PolicySettings,
    load_feature_settings,
)
from cin_ml.features._tasks import TASKS, TaskSpec, get_task, task_population

__all__ = [
    "AUDIT_ATTRIBUTES",
    "BuildSettings",
    "FeatureFrame",
    "FeaturePolicy",
    "FeatureSettings",
    "MARK_STATS",
    "NOMENCLATURE",
    "PolicyDecision",
    "PolicySettings",
    "TASKS",
    "TaskSpec",
    "build_features",
    "decide_policy",
    "feature_family",
    "feature_sources",
    "get_task",
    "load_feature_settings",
    "task_population",
]
