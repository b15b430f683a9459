"""Fairness audit of a training run (``cin-ml audit``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet, load_publishable_run
from cin_ml.run_contract import Artifact


def run_audit(run_id: str, policy_path: Path | str | None = None, *,
              n_boot: int | None = None, progress: Progress = _quiet,
              policy=None) -> dict:
    """Audit a training run's test predictions for fairness and log the results to the run.

    Logs ``fairness/audit.json`` (published form: small cells suppressed),
    ``fairness/mitigation.json`` (post-processing experiment) and plots under
    ``fairness/plots/``. The audit is at the run's own operating threshold. ``policy`` (a
    :class:`~cin_ml.fairness.FairnessPolicy`) replaces the file, e.g. for a dataset spec's
    own audit attributes.
    """
    from cin_ml.errors import DataError
    from cin_ml.fairness import (
        audit,
        calibration_within_groups,
        load_policy,
        mitigation_experiment,
        plot_disparities,
        plot_group_rates,
        plot_tradeoff,
    )

    policy = policy if policy is not None else load_policy(policy_path)
    bundle = load_publishable_run(run_id, "audits are published", progress)
    preds = bundle.test_predictions
    missing = [c for c in ("y_true", "score", *policy.attributes) if c not in preds.columns]
    if missing:
        raise DataError(f"run {run_id}: evaluation/test_predictions.parquet lacks column(s) "
                        f"{missing} needed by the fairness policy")
    threshold = bundle.threshold
    # pooled out-of-time predictions: each student at the threshold of the model that made it
    rows_thr = (preds["threshold"].to_numpy(dtype=float) if "threshold" in preds.columns
                else threshold)
    if "flagged" in preds.columns:
        off = int(((preds["score"] >= rows_thr).astype(int)
                   != preds["flagged"].astype(int)).sum())
        if off:
            raise DataError(f"run {run_id}: 'flagged' disagrees with score >= threshold "
                            f"({threshold:g}) for {off} students")
    p_true = preds["p_true"] if "p_true" in preds.columns and preds["p_true"].notna().all() \
        else None
    progress(f"auditing {len(preds):,} test students on {len(policy.groupings)} breakdowns")
    result = audit(preds["y_true"], preds["score"], rows_thr, preds[list(policy.attributes)],
                   policy, n_boot=n_boot, p_true=p_true)
    attr = policy.mitigation_attribute or _worst_attribute(result, policy.primary_metric)
    progress(f"mitigation experiment on {attr}")
    mit = mitigation_experiment(preds["y_true"], preds["score"], rows_thr, preds[attr],
                                policy)
    primary = policy.primary_metric
    figs = {f"fairness/plots/disparities_{primary}.png": plot_disparities(result, primary),
            "fairness/plots/mitigation_tradeoff.png": plot_tradeoff(mit)}
    inter = [b.name for b in result.breakdowns if len(b.attributes) > 1]
    if inter:
        figs[f"fairness/plots/disparities_{primary}_intersections.png"] = plot_disparities(
            result, primary, breakdowns=inter)
    for a in policy.attributes:
        figs[Artifact.plot(Artifact.FAIRNESS_PLOTS, f"rates_{a}")] = plot_group_rates(result, a)
    progress("calibration within groups")
    cal = calibration_within_groups(preds["y_true"], preds["score"],
                                    preds[list(policy.attributes)], policy, n_boot=n_boot)
    files = {Artifact.FAIRNESS_AUDIT: {**result.to_dict(), "calibration_within_groups": cal},
             Artifact.FAIRNESS_MITIGATION: mit.to_dict(), **figs}
    progress(f"logging {len(files)} fairness artifacts to run {run_id}")
    logged = bundle.log_artifacts(files)
    return {"run_id": run_id, "task": bundle.task, "n": result.n, "threshold": threshold,
            "n_boot": result.n_boot, "worst_verdict": result.worst_verdict,
            "verdicts": result.verdict_table,
            "fnr_ceiling_flags": [f.to_dict() for f in result.fnr_flags],
            "mitigation": mit.to_dict(), "artifacts": logged}


def _worst_attribute(result, metric: str) -> str:
    """Single attribute with the largest published |difference| on ``metric``."""
    best, worst = -1.0, None
    for b in result.breakdowns:
        if len(b.attributes) != 1:
            continue
        for g in b.groups:
            d = g.difference[metric].value
            if g.suppressed is None and d == d and abs(d) > best:
                best, worst = abs(d), b.attributes[0]
    return worst or result.breakdowns[0].attributes[0]
