"""Dataset specs (``cin-ml run --spec``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._audit import run_audit
from cin_ml.pipeline._card import run_card
from cin_ml.pipeline._common import Progress, _quiet
from cin_ml.pipeline._explain import run_explain
from cin_ml.run_contract import Artifact, Tag
from cin_ml.tasks import registered_model_name


def spec_fairness_policy(spec, policy_path: Path | str | None = None):
    """The fairness policy (``configs/fairness.toml`` or ``policy_path``) restricted to the
    spec's sensitive columns, with the spec's reference groups."""
    from cin_ml.errors import ConfigError
    from cin_ml.fairness import load_policy

    cols = tuple(spec.sensitive.columns)
    if not cols:
        raise ConfigError(f"{spec.where} [sensitive] columns: empty, nothing to audit")
    base = load_policy(policy_path)
    # the file's intersections and mitigation attribute name CSS columns: start from scratch
    pol = base.model_copy(update={"attributes": cols, "intersections": "all_pairs",
                                  "mitigation_attribute": None, "reference_groups": {}})
    return pol.model_copy(update={"reference_groups": dict(spec.sensitive.reference_groups)})


def run_spec(spec_path: Path | str, *, policy_path: Path | str | None = None, explain: bool = True,
             card: bool = True, card_out: Path | str = "reports/cards",
             explain_out: Path | str = "reports/explain", n_repeats: int | None = None,
             n_splits: int | None = None, progress: Progress = _quiet) -> dict:
    """Run a dataset spec through the chain: validate, cross-validate, train, track, audit,
    explain and write the card.

    The spec's protocol is run first (``n_repeats`` / ``n_splits`` override it, e.g. for a
    quick check); the tracked model and its evaluation rows are described in
    :func:`cin_ml.external.training_result`. The run lives in experiment
    ``cin-<spec name>`` of the default store (``MLFLOW_TRACKING_URI``, as for the audit,
    explain and card steps); the fairness audit covers the spec's sensitive columns (all pairs
    too); the card uses ``[card] sections`` of the spec and is skipped (with the reason in
    the summary) when the spec names none.
    """
    from cin_ml import tracking
    from cin_ml.external import (
        cross_validate,
        load_dataset,
        load_spec,
        model_datasets,
        training_result,
    )
    from cin_ml.models import evaluation_figures, load_model_settings

    spec = load_spec(spec_path)
    policy = spec_fairness_policy(spec, policy_path)  # fail on a bad policy before training
    ds = load_dataset(spec)
    progress(f"{spec.name}: {len(ds.y)} rows, {int(ds.y.sum())} events "
             f"({spec.target.event}), {len(ds.features)} features")
    v = spec.validation
    if n_repeats is not None or n_splits is not None:
        v = v.model_copy(update={k: val for k, val in (("n_repeats", n_repeats),
                                                       ("n_splits", n_splits))
                                 if val is not None})
    cv = cross_validate(ds, validation=v, progress=progress)
    progress(f"accuracy {cv.model.mean:.4f} [{cv.model.low:.4f}, {cv.model.high:.4f}] over "
             f"{len(cv.model.runs)} run(s)")
    ev = load_model_settings().evaluation
    result = training_result(ds, cv, n_boot=ev.n_boot, ci_level=ev.ci_level, seed=ev.seed)
    store = tracking.resolve_store()
    data_file = spec.data_path().resolve()
    tags = {Tag.DATA_FORM: spec.dataset.data_form, Tag.DATA_DIR: str(data_file),
            Tag.SPEC: str(Path(spec_path).resolve()), Tag.DATASET: spec.name,
            Tag.DATASET_SHA256: ds.sha256, Tag.ORIGIN: spec.dataset.origin,
            Tag.LICENCE: spec.dataset.licence}
    with tracking.training_run(spec.name, tags, store=store) as run_id:
        progress(f"run {run_id}: logging model and evaluation")
        logged = tracking.log_training(
            run_id, result, data_dir=str(data_file), data_form=spec.dataset.data_form,
            datasets=model_datasets(ds), figures=evaluation_figures(result.test),
            extra_files={Artifact.EXTERNAL_SPEC_TOML: Path(spec_path).read_text(
                             encoding="utf-8"),
                         Artifact.EXTERNAL_SPEC: spec.to_dict(),
                         Artifact.EXTERNAL_DATASET: ds.to_dict(),
                         Artifact.EXTERNAL_CV: cv.to_dict()},
            store=store)
        acc = {"cv_accuracy_mean": cv.model.mean, "cv_accuracy_ci_low": cv.model.low,
               "cv_accuracy_ci_high": cv.model.high, "cv_auc_mean": cv.auc.mean,
               "majority_accuracy": cv.majority.mean,
               "test_accuracy": result.metrics["test_accuracy"]}
        if cv.naive is not None:
            acc["naive_accuracy"] = cv.naive.mean
        tracking.log_metrics(run_id, acc, store)
    summary = {"run_id": run_id, "spec": spec.name, "experiment": registered_model_name(
        spec.name), "tracking_uri": store.tracking_uri, "model_uri": logged["model_uri"],
        "dataset": ds.to_dict(), "cross_validation": cv.to_dict()}
    progress("fairness audit on " + ", ".join(policy.attributes))
    summary["audit"] = run_audit(run_id, policy=policy, progress=progress)
    if explain:
        summary["explain"] = run_explain(run_id, lang="en", out=explain_out, progress=progress)
    if card and spec.card_sections_path() is not None:
        summary["card"] = run_card(run_id, lang="en", out=card_out,
                                   sections=spec.card_sections_path(), progress=progress)
    else:
        summary["card"] = {"skipped": "--no-card" if not card else
                           f"{spec.where} has no [card] sections"}
    return summary
