"""Real evidence for card tests, made with the pure functions of features, models, fairness
and explain on a small simulated CSS (no MLflow): the same dicts a tracked run logs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class Made:
    evidence: object
    result: object
    audit: object
    cohort: object = None
    """The explained cohort (``explain_cohort``): its students' explanations make sheets."""


@dataclass(frozen=True)
class Trained:
    """What make_evidence trains and explains: the same for every audit policy."""

    result: object
    cohort: object
    explain: dict


def train_and_explain(sim, task: str = "ecriture_4e") -> Trained:
    """Train on ``sim`` (K = 3 pooled test cohorts) and explain the test cohort."""
    from cin_ml.errors import SmallGroupWarning
    from cin_ml.explain import explain_cohort, load_explain_settings, truth_agreement
    from cin_ml.features import AUDIT_ATTRIBUTES, build_features, load_feature_settings
    from cin_ml.models import load_model_settings, train_model
    from cin_ml.simulator import true_feature_signs

    mset = load_model_settings()
    mset = mset.model_copy(update={
        "lightgbm": mset.lightgbm.model_copy(update={"num_threads": 1, "max_rounds": 300}),
        "tuning": mset.tuning.model_copy(update={"n_folds": 0}),
        "evaluation": mset.evaluation.model_copy(update={"n_boot": 60}),
        # K = 3 pooled test cohorts (power rule off): small groups stay small enough to be
        # suppressed, which the card tests need
        "validation": mset.validation.model_copy(update={"min_test_at_risk": 0})})
    frame = build_features(sim.tables, task, load_feature_settings())
    p_true = sim.truth.students.set_index("student_id")[f"p_{task}"]
    result = train_model(frame, mset, p_true=p_true)
    test = result.test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        settings, _ = load_explain_settings()
        settings = settings.model_copy(update={"num_threads": 1, "global_sample": 400,
                                               "stability_resamples": 5})
        X = result.test_features.set_index("student_id")[list(result.features)]
        groups = [c for c in AUDIT_ATTRIBUTES if c in test.columns]
        e = explain_cohort(result.booster, X, test, settings=settings,
                           approved_sensitive=["intervention_plan"],
                           sensitive=["intervention_plan"], group_columns=groups,
                           monotone=result.monotone["features"],
                           category_maps=result.category_maps, task=task)
    explain = e.to_dict()  # as pipeline.run_explain does for a run with a truth
    explain["reasons"]["truth"] = truth_agreement(
        e.students, true_feature_signs(task, list(result.features)))
    return Trained(result, e, explain)


def make_evidence(sim, task: str = "ecriture_4e", suppress_below: int | None = None,
                  trained: Trained | None = None) -> Made:
    """Card evidence: ``trained`` (trained and explained on ``sim`` when not given), audited
    under the packaged fairness policy with ``suppress_below``."""
    import copy

    from cin_ml.cards import CardEvidence
    from cin_ml.errors import SmallGroupWarning
    from cin_ml.fairness import audit, calibration_within_groups, load_policy

    trained = trained or train_and_explain(sim, task)
    result, test = trained.result, trained.result.test
    policy = load_policy()
    policy = policy.model_copy(update={"n_boot": 60, **(
        {"suppress_below": suppress_below} if suppress_below else {})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        fair = audit(test["y_true"].to_numpy(), test["score"].to_numpy(),
                     test["threshold"].to_numpy(), test[list(policy.attributes)], policy)
    run = {"run_id": "0123456789abcdef0123456789abcdef", "task": task, "experiment_id": "1",
           "status": "FINISHED", "model_uri": "models:/m-abc",
           "tags": {"cin.data_form": "deidentified", "cin.data_dir": "/data/deid",
                    "cin.git_commit": "abc123", "cin.kind": "train"}}
    evaluation = {**result.metrics, "threshold": result.threshold,
                  "split": result.split.to_dict()}
    ev = CardEvidence(run=run, model_meta=result.model_meta(), evaluation=evaluation,
                      feature_policy=result.policy, fairness={
                          **fair.to_dict(),   # as pipeline.run_audit logs it
                          "calibration_within_groups": calibration_within_groups(
                              test["y_true"], test["score"], test[list(policy.attributes)],
                              policy)},
                      explain=copy.deepcopy(trained.explain))
    return Made(ev, result, fair, trained.cohort)
