"""Harmonize absence reasons and train a tracked model (``cin-ml harmonize``, ``cin-ml train``)."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet
from cin_ml.pipeline._consent import check_training_consent
from cin_ml.run_contract import Artifact, DataForm, Tag, VersionTag

_TRAIN_TABLES = ("students", "enrolments", "marks", "absences", "intervention_plans",
                 "schools", "ministry_exams", "outcomes")


def _require_deidentified(tables: dict, data: Path) -> None:
    """Refuse a source extract: tracked runs only see de-identified data."""
    from cin_ml.errors import PolicyError
    from cin_ml.schema import TABLES, Role

    leaked = [f"{t}.{c.name}" for t, df in tables.items() if t in TABLES
              for c in TABLES[t].columns
              if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
    if leaked:
        raise PolicyError(f"{data} is a source extract (direct identifier column(s) "
                          f"{', '.join(leaked[:4])}{'…' if len(leaked) > 4 else ''}); tracked "
                          f"runs need the de-identified form: run `cin-ml deidentify` first")


def _validate_contract(tables: dict, data: Path) -> dict:
    """The data contract's types, ranges, values and keys (``validate_extract``, as
    ``deidentify`` checks them), before any run is opened: one line naming the file."""
    from cin_ml.errors import SchemaError
    from cin_ml.schema import validate_extract

    try:
        return validate_extract(tables, required=_TRAIN_TABLES, form="deidentified")
    except SchemaError as exc:
        raise SchemaError(f"{data}: {exc}") from None


def _monitoring_reference(frame, tables: dict, result) -> dict:
    """Binned reference of the training cohorts' model inputs (overall and per CSS) and of
    the test cohort's scores, for ``cin-ml monitor`` (``monitoring/reference.json``)."""
    from cin_ml.models import encode
    from cin_ml.monitoring import build_reference, load_monitoring_settings

    pop = frame.population
    rows = pop.index[pop["cohort_year"].isin(result.split.train)]
    X = encode(frame.X.loc[rows], result.category_maps, list(result.features))
    css = tables["students"].set_index("student_id")["css_id"].reindex(rows)
    return build_reference(X, css.astype(str).to_numpy(), scores=result.test["score"],
                           threshold=float(result.threshold["value"]),
                           n_bins=load_monitoring_settings().drift.n_bins)


def run_harmonize(data: Path | str, out: Path | str | None = None, *,
                  config: Path | str | None = None, truth: Path | str | None = None,
                  progress: Progress = _quiet) -> dict:
    """Harmonize the absence reasons of an extract and write the per-CSS report.

    Writes ``<out>/harmonization.json`` (summary, and coverage against ``truth`` when given)
    and ``<out>/unmapped.csv`` (unmapped and ambiguous strings per CSS), atomically.
    """
    from cin_ml.extract import atomic_dir, read_extract, write_csv, write_json_atomic
    from cin_ml.features import (
        harmonize_absences,
        load_harmonize_settings,
        score_harmonization,
    )
    from cin_ml.simulator import read_truth

    data = Path(data)
    out = Path(out) if out is not None else data.parent / f"{data.name}_harmonization"
    tables = read_extract(data, ("students", "absences"), required=("students", "absences"))
    settings = load_harmonize_settings(config)
    progress(f"harmonizing {len(tables['absences']):,} absence records")
    h = harmonize_absences(tables["absences"], tables["students"], settings)
    summary = h.summary()
    if truth is not None:
        summary["against_truth"] = score_harmonization(h, read_truth(truth).absence_reasons)
    with atomic_dir(out) as tmp:
        write_json_atomic(tmp / "harmonization.json", summary)
        write_csv(h.report(), tmp / "unmapped.csv")
        write_csv(h.mapping, tmp / "mapping.csv")
    return {"out": str(out), **summary}


def run_train(data: Path | str, task: str, truth: Path | str | None = None, *,
              features_config: Path | str | None = None,
              models_config: Path | str | None = None,
              tracking_uri: str | None = None, data_form: str | None = None,
              agreements: Path | str | None = None,
              progress: Progress = _quiet) -> dict:
    """Build features, train, evaluate and log one task's model to MLflow.

    ``data`` must be a de-identified (or virtual) extract; ``truth`` an optional ground-truth
    folder keyed with the same pseudonyms (then ``oracle_auc`` is logged on the same test
    students). The run is marked FAILED if any step raises. Every CSS of ``data`` must have
    a valid data-use agreement for each dataset read (``check_training_consent``; the
    agreements relied on are logged as ``consent/scope.json``).
    """
    from cin_ml import tracking
    from cin_ml.extract import read_extract
    from cin_ml.features import build_features, load_feature_settings
    from cin_ml.models import evaluation_figures, load_model_settings, train_model
    from cin_ml.tasks import get_task

    data = Path(data)
    spec = get_task(task)
    fset = load_feature_settings(features_config)
    mset = load_model_settings(models_config)
    tables = read_extract(data, _TRAIN_TABLES, required=_TRAIN_TABLES)
    _require_deidentified(tables, data)
    tables = _validate_contract(tables, data)
    consent = check_training_consent(tables, data, agreements)
    # virtual CSS folders carry virtual_css.json (synthesize); anything else that passed the
    # identifier check is treated as de-identified
    form = data_form or (DataForm.VIRTUAL if (data / "virtual_css.json").is_file()
                         else DataForm.DEIDENTIFIED)
    p_true = None
    if truth is not None:
        from cin_ml.simulator import read_truth

        ts = read_truth(truth).students
        p_true = ts.set_index("student_id")[spec.truth_probability]
    store = tracking.resolve_store(tracking_uri)
    tags = {Tag.DATA_FORM: form, Tag.DATA_DIR: str(data.resolve()),
            Tag.TRUTH: str(Path(truth).resolve()) if truth is not None else "",
            VersionTag.CONSENT_AGREEMENTS: ",".join(consent["agreement_ids"])}
    with tracking.training_run(task, tags, store=store) as run_id:
        progress(f"run {run_id}: building features for {task}")
        frame = build_features(tables, spec, fset)
        progress(f"{frame.X.shape[1]} features for {len(frame.X):,} students; training")
        result = train_model(frame, mset, p_true=p_true)
        pop = frame.population
        lab = frame.X.assign(label=pop["label"].astype("float64"),
                             cohort_year=pop["cohort_year"].astype("float64"))
        datasets = {"train": lab.loc[pop["cohort_year"].isin(result.split.train)
                                     & pop["label"].notna()],
                    "test": lab.loc[lab.index.isin(result.test["student_id"])]}
        reference = _monitoring_reference(frame, tables, result)
        progress("logging to MLflow")
        logged = tracking.log_training(
            run_id, result, data_dir=str(data.resolve()), data_form=form, datasets=datasets,
            figures=evaluation_figures(result.test, mset.calibration.n_bins),
            extra_files={"features/harmonization.json": frame.harmonization,
                         "features/feature_frame.json": frame.to_dict(),
                         Artifact.CONSENT_SCOPE: consent,
                         Artifact.MONITORING_REFERENCE: reference},
            store=store)
    m = result.metrics
    return {"run_id": run_id, "task": task, "model_uri": logged["model_uri"],
            "experiment": spec.experiment, "tracking_uri": store.tracking_uri,
            "n_features": len(result.features), "split": result.split.to_dict(),
            "calibration": result.calibration["method"], "threshold": result.threshold,
            "metrics": {k: m.get(k) for k in ("test_auc", "oracle_auc", "auc_gap_to_oracle",
                                              "indicator_auc", "logistic_auc", "test_brier",
                                              "n_train", "n_test")},
            "at_threshold": m["at_threshold"],
            "ci": {k: m["bootstrap"]["intervals"][k] for k in ("model_auc",)},
            "agreements": list(consent["agreement_ids"])}
