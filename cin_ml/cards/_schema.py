"""The typed model card (pydantic): Mitchell et al.'s sections plus what a governance
committee needs (out-of-scope uses, human oversight, recourse, data provenance and consent,
virtual-CSS results, feature policy, review).

Missing upstream evidence is never invented: an evidence section carries a ``status``
(``available``, ``not_run`` or ``not_applicable``) and a ``note`` saying why, and the
completeness check (:mod:`._complete`) turns what is missing into :class:`Gap` records.
Every model is frozen and forbids unknown keys, so ``ModelCard.model_validate_json`` of a
card's JSON gives back the same card.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"

EvidenceStatus = Literal["available", "not_run", "not_applicable"]
Verdict = Literal["pass", "fail", "inconclusive", "insufficient_data"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A text in both card languages (French first: the network's working language)."""

    fr: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        return self.fr if lang == "fr" else self.en


class Interval(_Model):
    """A point estimate with its bootstrap interval (``None`` when undefined)."""

    estimate: float | None = None
    low: float | None = None
    high: float | None = None


class Gap(_Model):
    """Why a card is not ready for review: a missing human section or missing evidence."""

    code: str
    section: str
    kind: Literal["human", "evidence"]
    message: Text


class ModelDetails(_Model):
    task: str
    run_id: str
    experiment_id: str = ""
    model_uri: str = ""
    run_status: str = ""
    trained_at: str | None = None
    git_commit: str = "unknown"
    model_type: str = "LightGBM gradient-boosted trees, calibrated probability"
    n_features: int
    calibration: str
    threshold: float
    threshold_mode: str
    capacity: float | None = None
    target_recall: float | None = None
    prepared_by: str = ""


class IntendedUse(_Model):
    primary_uses: Text
    primary_users: Text
    out_of_scope: tuple[Text, ...] = ()


class Factors(_Model):
    audited_attributes: tuple[str, ...] = ()
    intersections: tuple[str, ...] = ()
    relevant: Text = Text()


class MetricRow(_Model):
    """One headline metric (``key`` like ``model_auc``, ``indicator_auc``, ``recall``)."""

    key: str
    value: Interval


class CohortRow(_Model):
    """One rolling-origin test cohort: scored by a model trained on the cohorts before it."""

    cohort: int
    n: int
    event_rate: float | None = None
    auc: Interval
    recall_at_capacity: Interval
    calibration_intercept: Interval
    calibration_slope: Interval
    ece: Interval


class Stability(_Model):
    """How much performance moves across the test cohorts."""

    auc_low: float | None = None
    auc_high: float | None = None
    recall_low: float | None = None
    recall_high: float | None = None
    intervals_overlap: bool = True
    lowest_auc_cohort: int | None = None
    k_configured: int | None = None       # test_cohorts of models.toml
    min_test_at_risk: int | None = None   # the power rule's target (0: off)
    test_at_risk: int | None = None       # at-risk students in the pooled test cohorts


class Metrics(_Model):
    rows: tuple[MetricRow, ...]
    cohorts: tuple[CohortRow, ...] = ()
    """Rolling-origin validation, oldest test cohort first (empty: a single test cohort)."""
    stability: Stability | None = None
    context_recall: float | None = None
    """Recall at the served capacity of the context-only model (school, IMSE, cohort)."""
    recall_at_capacity: float | None = None
    context_gain: Interval | None = None
    """The model's recall at capacity minus the context-only model's, with its interval."""
    ci_level: float | None = None
    n_boot: int | None = None
    oracle_available: bool = False
    auc_gap_to_oracle: float | None = None
    flag_rate: float | None = None
    ece: float | None = None
    indicator_recall: float | None = None
    indicator_flag_rate: float | None = None
    recall_at_indicator_rate: float | None = None
    """The model's recall when it flags as many students as the indicator (like for like)."""

    def get(self, key: str) -> Interval | None:
        return next((r.value for r in self.rows if r.key == key), None)


class DataSplit(_Model):
    cohorts: tuple[int, ...]
    n: int | None = None
    event_rate: float | None = None


class FairnessGroup(_Model):
    """One group; a suppressed group (``suppressed`` set) carries no number at all."""

    label: str
    is_reference: bool = False
    suppressed: str | None = None
    n: int | None = None
    rate: Interval = Interval()
    difference: Interval = Interval()
    verdict: Verdict | Literal["reference"] | None = None


class FairnessBreakdown(_Model):
    name: str
    reference: str
    verdicts: dict[str, Verdict]
    groups: tuple[FairnessGroup, ...] = ()
    mdd: dict[str, float] = Field(default_factory=dict)
    """Minimum detectable difference of each inconclusive metric (see cin_ml.fairness)."""


class CalibrationGroupRow(_Model):
    """Calibration intercept and slope of one group (suppressed: no numbers)."""

    attribute: str
    group: str
    n: int | None = None
    intercept: Interval = Interval()
    slope: Interval = Interval()
    verdict: Verdict


class FnrFlagRow(_Model):
    breakdown: str
    group: str
    fnr: Interval
    confirmed: bool


class Fairness(_Model):
    status: EvidenceStatus
    note: Text = Text()
    primary_metric: str = "fnr"
    metrics: tuple[str, ...] = ()
    worst_verdict: Verdict | None = None
    n: int | None = None
    suppress_below: int | None = None
    min_group_size: int | None = None
    min_outcome_count: int | None = None
    confidence_level: float | None = None
    fnr_ceiling: float | None = None
    fnr_ceiling_factor: float | None = None  # set when the ceiling is relative to overall FNR
    fnr_flags_shown: int = 5
    tolerances: dict[str, dict[str, float | tuple[float, float] | None]] = Field(
        default_factory=dict)
    breakdowns: tuple[FairnessBreakdown, ...] = ()
    fnr_flags: tuple[FnrFlagRow, ...] = ()
    mitigation: Text = Text()
    calibration_groups: tuple[CalibrationGroupRow, ...] = ()
    calibration_tolerance: dict[str, float | tuple[float, float]] = Field(default_factory=dict)


class Driver(_Model):
    feature: str
    label: Text
    family: str
    mean_abs: float
    share: float
    mean: float


class FamilyShare(_Model):
    family: str
    label: Text
    share: float


class MonotoneFamily(_Model):
    """A feature family whose domain direction the model is constrained to."""

    family: str
    label: Text
    direction: str


class Explanations(_Model):
    status: EvidenceStatus
    note: Text = Text()
    method: str = ""
    n_students: int | None = None
    drivers: tuple[Driver, ...] = ()
    families: tuple[FamilyShare, ...] = ()
    stability_spearman_median: float | None = None
    stability_top_k_overlap_min: float | None = None
    additivity_max_error: float | None = None
    """The power of ten the SHAP additivity error is below (``cin_ml.explain.additivity_bound``,
    at least 1e-9): never the float noise itself, which would change the card's hash."""
    reasons_method: str = ""
    reason_level: str = ""
    materiality_points: float | None = None
    monotone_families: tuple[MonotoneFamily, ...] = ()
    monotone_method: str = ""
    reasons_checked: int | None = None
    students_checked: int | None = None
    contradictions: int | None = None
    truth_agreement: float | None = None
    truth_pairs: int | None = None
    truth_inert_first: int | None = None


class Justification(_Model):
    feature: str
    role: str
    text: str
    text_fr: str = ""
    """French text when the policy gives one (``text`` is then the English)."""


class FeaturePolicy(_Model):
    status: EvidenceStatus
    note: Text = Text()
    features_used: tuple[str, ...] = ()
    features_excluded: tuple[str, ...] = ()
    justified: tuple[Justification, ...] = ()
    forbidden_used: tuple[str, ...] = ()
    clean: bool = False


class Agreement(_Model):
    """A data-use agreement the training data relied on (one per CSS × dataset)."""

    agreement_id: str
    css_id: str
    dataset: str
    purpose: str = ""
    valid_until: str = ""
    signatory: str = ""


class Provenance(_Model):
    data_form: str
    origin: Literal["simulated", "real", "unknown"]
    origin_basis: Text
    data_dir: str = ""
    css: tuple[str, ...] = ()
    agreements_status: EvidenceStatus
    agreements: tuple[Agreement, ...] = ()
    agreements_note: Text = Text()
    retention: Text = Text()
    dataset_digests: dict[str, str] = Field(default_factory=dict)


class VirtualCheck(_Model):
    """One fidelity / privacy / utility result of a virtual CSS against its target."""

    area: Literal["fidelity", "privacy", "utility"]
    key: str
    value: float | None
    target: str = ""
    passed: bool | None = None


class VirtualCSS(_Model):
    status: EvidenceStatus
    note: Text = Text()
    synthesizer: str = ""
    checks: tuple[VirtualCheck, ...] = ()
    overall_pass: bool | None = None


class Risk(_Model):
    code: str
    text: Text


class Considerations(_Model):
    ethical: Text
    caveats: Text
    risks: tuple[Risk, ...] = ()


class Recourse(_Model):
    how: Text
    contact: Text


class AccuracyRow(_Model):
    """Accuracy (share of correct decisions) of the model or a baseline, averaged over the
    protocol's runs, with its interval (``method``: ``t`` across runs, ``wilson`` over rows).
    ``key``: ``model``, ``naive`` (the spec's naive rule, ``rule``) or ``majority`` (the
    training folds' majority class)."""

    key: Literal["model", "naive", "majority"]
    value: Interval
    n_runs: int = 1
    method: str = ""
    rule: str = ""


class Subject(_Model):
    """What a dataset spec's card says about its own task (a CSS task's card has none: its
    wording comes from :mod:`cin_ml.tasks`). Texts come from the spec (``[dataset] title``,
    ``[target] description``) or, when the spec gives none, from its rule and file."""

    title: Text
    predicts: Text
    for_whom: Text
    event: Text
    """Who the recall counts, after "the model finds about N in 100 of ..."."""
    evaluation: Text
    """How the evaluation rows were scored (out-of-fold, hold-out)."""
    out_of_fold: bool
    accuracy: tuple[AccuracyRow, ...] = ()
    threshold: float | None = None
    reference_groups: dict[str, str] = Field(default_factory=dict)
    """Reference group of each audited column, as the spec chose it (else the largest)."""


class Review(_Model):
    """Filled by the registry (issue 8); not covered by the card's SHA-256."""

    status: Literal["not_reviewed", "pending", "approved", "rejected", "expired"] = "not_reviewed"
    """``expired``: an approval past its end date (``governance check`` expired it)."""
    model_name: str | None = None
    model_version: str | None = None
    reviewer: str | None = None
    decided_at: str | None = None
    comment: str | None = None
    conditions: str | None = None
    expires: str | None = None
    author: str | None = None
    """Who registered the version (shown as "prepared by" when the sections name nobody)."""
    aliases: tuple[str, ...] = ()
    """Registry aliases the version holds when the review rendering was made (``champion``)."""


class ModelCard(_Model):
    """A model card, as logged in ``card/card.json`` and rendered in fr and en."""

    schema_version: str = SCHEMA_VERSION
    status: Literal["draft", "ready_for_review"]
    model_details: ModelDetails
    intended_use: IntendedUse
    factors: Factors
    metrics: Metrics
    evaluation_data: DataSplit
    training_data: DataSplit
    validation_data: DataSplit | None = None
    fairness: Fairness
    explanations: Explanations
    feature_policy: FeaturePolicy
    provenance: Provenance
    virtual_css: VirtualCSS
    considerations: Considerations
    human_oversight: Text
    recourse: Recourse
    gaps: tuple[Gap, ...] = ()
    review: Review = Review()
    subject: Subject | None = None
    """A dataset spec's own wording and baselines; ``None`` (and absent from the JSON) for
    a CSS task."""
