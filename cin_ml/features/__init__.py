"""Student-level features at a prediction point, and the feature policy.

Feature names (docs/architecture.md, "Package seams"): ``{competency}_g{grade}_{stat}``
(stat in mean, min, last, trend, volatility), ``{competency}_n_below_60``,
``absence_rate_{category}``, ``absence_rate_total``, ``intervention_plan``, ``n_retentions``,
``n_school_changes``, ``imse_decile``, ``mother_education``. One grammar (``_names``) builds them
(:func:`mark_feature`, :func:`below_feature`, :func:`absence_feature`) and reads them back
(:func:`parse_feature`); :func:`feature_family` maps a name to its family.
"""

from cin_ml.features._build import (
    AUDIT_ATTRIBUTES,
    NOMENCLATURE,
    FeatureFrame,
    build_features,
)
from cin_ml.features._harmonize import (
    Harmonization,
    HarmonizeSettings,
    harmonize_absences,
    load_harmonize_settings,
    normalize_reason,
    score_harmonization,
)
from cin_ml.features._names import (
    FAMILIES,
    IMSE_DECILE,
    INTERVENTION_PLAN,
    MARK_STATS,
    MOTHER_EDUCATION,
    N_RETENTIONS,
    N_SCHOOL_CHANGES,
    FeatureName,
    absence_feature,
    below_feature,
    feature_family,
    mark_feature,
    parse_feature,
)
from cin_ml.features._policy import (
    FeaturePolicy,
    PolicyDecision,
    decide_policy,
    feature_sources,
)
from cin_ml.features._settings import (
    BuildSettings,
    FeatureSettings,
    PolicySettings,
    load_feature_settings,
)
from cin_ml.features._tasks import task_population

__all__ = [
    "AUDIT_ATTRIBUTES",
    "BuildSettings",
    "FAMILIES",
    "FeatureFrame",
    "FeatureName",
    "FeaturePolicy",
    "FeatureSettings",
    "Harmonization",
    "HarmonizeSettings",
    "IMSE_DECILE",
    "INTERVENTION_PLAN",
    "MARK_STATS",
    "MOTHER_EDUCATION",
    "N_RETENTIONS",
    "N_SCHOOL_CHANGES",
    "NOMENCLATURE",
    "PolicyDecision",
    "PolicySettings",
    "absence_feature",
    "below_feature",
    "build_features",
    "decide_policy",
    "feature_family",
    "feature_sources",
    "harmonize_absences",
    "load_feature_settings",
    "load_harmonize_settings",
    "mark_feature",
    "normalize_reason",
    "parse_feature",
    "score_harmonization",
    "task_population",
]
