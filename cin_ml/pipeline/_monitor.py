"""Monitor a served model on the newest cohort of an extract (``cin-ml monitor``)."""

from __future__ import annotations

import json
from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet
from cin_ml.run_contract import Artifact, Tag, VersionTag

_MONITOR_TABLES = ("students", "enrolments", "marks", "absences", "intervention_plans",
                   "schools", "ministry_exams", "outcomes")


def _reference(bundle, progress: Progress) -> dict:
    """The training run's binned reference; for a run trained before it was logged, one
    built from its test cohort (``evaluation/test_features.parquet``, no per-CSS counts)."""
    from cin_ml.monitoring import build_reference, load_monitoring_settings

    ref = bundle.optional(Artifact.MONITORING_REFERENCE.value)
    if isinstance(ref, dict):
        return ref
    progress(f"run {bundle.run_id} has no {Artifact.MONITORING_REFERENCE.value}: reference "
             f"from its test cohort")
    X = bundle.test_features[list(bundle.features)]
    return {**build_reference(X, None, scores=bundle.test_predictions["score"],
                              threshold=bundle.threshold,
                              n_bins=load_monitoring_settings().drift.n_bins),
            "fallback": "test_features"}


def _prior_estimate(name: str, store):
    from cin_ml.tracking import RunReader, find_monitoring_runs

    reader = RunReader(store)

    def lookup(year: int):
        for run_id, _, _ in find_monitoring_runs(name, store, cohort=year, max_results=5):
            rep = reader.optional(run_id, Artifact.MONITORING_REPORT.value)
            if isinstance(rep, dict) and rep.get("estimate"):
                return {**rep["estimate"], "monitoring_run": run_id}
        return None

    return lookup


def run_monitor(model: str, data: Path | str, *, out: Path | str = "reports",
                config: Path | str | None = None, features_config: Path | str | None = None,
                tracking_uri: str | None = None, demo_key: bool = False, log: bool = True,
                progress: Progress = _quiet) -> dict:
    """Monitor ``NAME@ALIAS`` on ``data``'s newest cohort (at its prediction point).

    Writes ``<out>/monitor/<name>-v<version>-<year>/`` atomically (``report.json``,
    ``report.fr.html``, ``report.en.html``, ``card_section.{fr,en}.html``) and logs them
    as a run of ``cin-monitoring`` (``log``): feature drift per input and per CSS against
    the training cohorts, score and flag-rate shift, the label-free estimate of AUC and
    recall, the realized figures of the latest labelled cohort beside the estimate made
    before and the approved card's, and the state of the approval's conditions.
    """
    from cin_ml.cards import render_monitoring_report, render_monitoring_section
    from cin_ml.extract import atomic_dir, read_extract, write_json_atomic
    from cin_ml.fairness import load_policy
    from cin_ml.features import load_feature_settings
    from cin_ml.monitoring import load_monitoring_settings, monitor_extract
    from cin_ml.pipeline._access import _governed
    from cin_ml.tracking import (
        flat_metrics,
        load_run_bundle,
        log_monitoring_run,
        resolve_served_model,
        resolve_store,
    )

    data = Path(data)
    settings = load_monitoring_settings(config)
    store = resolve_store(tracking_uri)
    served = _governed(resolve_served_model(model, store), tracking_uri, demo_key)
    progress(f"{served.ref} is version {served.version} (run {served.run_id})")
    for note in served.notes:
        progress(note)
    bundle = load_run_bundle(served.run_id, store, model=served.model)
    tables = read_extract(data, _MONITOR_TABLES, required=_MONITOR_TABLES[:6])
    review = json.loads(served.tags.get(VersionTag.REVIEW) or "{}")
    conditions = review.get("monitoring_conditions") or []
    approved = {k: v for k, v in flat_metrics(bundle.evaluation).items()
                if k.startswith("test_")}
    # the latest labelled test cohort (rolling-origin runs log them comma-separated)
    test_cohorts = [int(float(c)) for c in str(bundle.params.get("test_cohort") or "").split(",")
                    if c.strip()]
    progress(f"scoring the newest cohort of {data} with {served.ref}")
    report = monitor_extract(
        bundle, tables, _reference(bundle, progress), settings,
        after_cohort=max(test_cohorts) if test_cohorts else None,
        conditions=conditions, approved=approved,
        prior_estimate=_prior_estimate(served.name, store),
        model_info={"name": served.name, "alias": served.alias, "version": served.version,
                    "run_id": served.run_id, "task": bundle.task},
        feature_settings=load_feature_settings(features_config),
        fairness_policy=load_policy())
    rep = json.loads(json.dumps(report.to_dict(), default=float))
    ref = f"{served.ref} (v{served.version})"
    files = {Artifact.MONITORING_REPORT.value: rep}
    for lang in ("fr", "en"):
        files[Artifact.monitoring_html(lang)] = render_monitoring_report(rep, lang, ref)
        files[Artifact.monitoring_card_section(lang)] = render_monitoring_section(rep, lang,
                                                                                  ref)
    year = rep["cohort"]["year"]
    target = Path(out) / "monitor" / f"{served.name}-v{served.version}-{year}"
    with atomic_dir(target) as tmp:
        for path, content in files.items():
            name = Path(path).name
            if isinstance(content, dict):
                write_json_atomic(tmp / name, content)
            else:
                (tmp / name).write_text(content, encoding="utf-8")
    run_id = None
    if log:
        breached = [c["text"] for c in rep["conditions"] if c["state"] == "breached"]
        run_id = log_monitoring_run(
            {Tag.MONITOR_MODEL: served.name, Tag.MONITOR_VERSION: served.version,
             Tag.MONITOR_ALIAS: served.alias, Tag.MONITOR_RUN: served.run_id,
             Tag.MONITOR_COHORT: str(year), Tag.MONITOR_ALARMS: str(len(rep["alarms"])),
             Tag.MONITOR_BREACHED: "; ".join(breached)[:4000]},
            rep["values"], files, store)
        progress(f"logged monitoring run {run_id}")
    progress(f"wrote {target}")
    return {"model": served.name, "alias": served.alias, "version": served.version,
            "cohort": rep["cohort"], "alarms": rep["alarms"], "conditions": rep["conditions"],
            "estimate": rep["estimate"], "realized": rep["realized"], "out": str(target),
            "html": str(target / "report.fr.html"), "run_id": run_id}
