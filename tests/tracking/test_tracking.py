"""Tracked training runs: de-identified input only, what a run logs, the stock pyfunc,
run bundles, log_artifacts, and FAILED runs."""

from __future__ import annotations

import dataclasses
import hashlib

import mlflow
import numpy as np
import pandas as pd
import pytest

from cin_ml import tracking
from cin_ml.errors import PolicyError, TrackingError
from cin_ml.extract import write_extract
from cin_ml.schema import TABLES, Role


def _pseudo(s: pd.Series) -> pd.Series:
    return s.map(lambda v: "P" + hashlib.sha256(f"test-key:{v}".encode()).hexdigest()[:16])


@pytest.fixture(scope="module")
def folders(small_sim, tmp_path_factory):
    """Source extract, its de-identified form (identifiers dropped, student_id hashed in
    every table and in the truth), and the re-keyed truth."""
    from cin_ml.simulator import write_truth

    root = tmp_path_factory.mktemp("data")
    write_extract(small_sim.tables, root / "source")
    deid = {}
    for name, df in small_sim.tables.items():
        drop = [c.name for c in TABLES[name].columns
                if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
        df = df.drop(columns=drop)
        if "student_id" in df:
            df = df.assign(student_id=_pseudo(df["student_id"]))
        deid[name] = df
    write_extract(deid, root / "virtual", extra_files={"virtual_css.json": {"test": True}})
    truth = dataclasses.replace(small_sim.truth, students=small_sim.truth.students.assign(
        student_id=_pseudo(small_sim.truth.students["student_id"])))
    (root / "truth").mkdir()
    write_truth(truth, root / "truth")
    return root


@pytest.fixture()
def fast_config(tmp_path, fast_models_config):
    return fast_models_config(tmp_path, n_boot=30)


def test_source_extract_is_refused(folders, mlflow_store):
    from cin_ml.pipeline import run_train

    with pytest.raises(PolicyError, match="cin-ml deidentify"):
        run_train(folders / "source", "ecriture_4e")
    mlflow.set_tracking_uri(mlflow_store)
    assert mlflow.search_runs(search_all_experiments=True).empty   # no run was opened


def test_training_run_logs_everything_and_reloads(folders, mlflow_store, fast_config):
    from cin_ml.pipeline import run_train

    s = run_train(folders / "virtual", "ecriture_4e", truth=folders / "truth",
                  models_config=fast_config)
    run = mlflow.MlflowClient(mlflow_store).get_run(s["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["cin.task"] == "ecriture_4e"
    assert run.data.tags["cin.data_form"] == "virtual"
    assert run.data.tags["cin.kind"] == "train"
    assert run.data.tags["cin.git_commit"]
    for k in ("test_auc", "oracle_auc", "indicator_auc", "logistic_auc", "test_brier",
              "model_auc_ci_low", "test_recall_at_threshold"):
        assert k in run.data.metrics
    assert run.data.metrics["test_auc"] > run.data.metrics["indicator_auc"]
    assert {i.dataset.name for i in run.inputs.dataset_inputs} == {"ecriture_4e-train",
                                                                  "ecriture_4e-test"}
    arts = tracking.list_artifacts(s["run_id"])
    for a in ("model_meta.json", "evaluation/test_predictions.parquet",
              "evaluation/test_features.parquet", "evaluation/metrics.json",
              "policy/feature_policy.json", "plots/roc.png", "plots/pr.png",
              "plots/calibration.png"):
        assert a in arts
    b = tracking.load_run_bundle(s["run_id"])
    assert b.task == "ecriture_4e" and b.status == "FINISHED"
    tp = b.test_predictions
    for c in ("student_id", "cohort_year", "y_true", "score", "flagged", "sex",
              "language_group", "immigration_generation", "intervention_plan", "imse_band",
              "p_true"):
        assert c in tp
    assert tp["student_id"].str.startswith("P").all()        # pseudonyms, never source ids
    assert "intervention_plan" in b.feature_policy["justifications"]
    assert b.evaluation["oracle_auc"] == pytest.approx(run.data.metrics["oracle_auc"])
    X = b.test_features[b.features]
    # the served model (retrained on every labelled cohort) gives served_score; the pooled
    # out-of-time `score` comes from the rolling-origin fold models
    np.testing.assert_allclose(b.predict(X), tp["served_score"], atol=1e-12)
    # a stock client (no cin_ml) loads the logged model and gets the same calibrated p
    for uri in (b.model_uri, f"runs:/{s['run_id']}/model"):
        pf = mlflow.pyfunc.load_model(uri)
        np.testing.assert_allclose(np.asarray(pf.predict(X)), tp["served_score"], atol=1e-9)


def test_log_artifacts_and_errors(folders, mlflow_store):
    from matplotlib.figure import Figure

    client = mlflow.MlflowClient(mlflow_store)
    exp = client.create_experiment("scratch")
    rid = client.create_run(exp).info.run_id
    fig = Figure()
    fig.subplots().plot([0, 1])
    logged = tracking.log_artifacts(rid, {
        "fairness/audit.json": {"b": 1, "a": [1, 2]}, "fairness/table.parquet":
        pd.DataFrame({"x": [1, 2]}), "card/card.fr.md": "# Carte", "fairness/fnr.png": fig,
        "raw.bin": b"\x00\x01"})
    assert len(logged) == 5
    assert tracking.load_artifact(rid, "fairness/audit.json") == {"a": [1, 2], "b": 1}
    assert tracking.load_artifact(rid, "fairness/table.parquet")["x"].tolist() == [1, 2]
    assert tracking.load_artifact(rid, "card/card.fr.md") == "# Carte"
    with pytest.raises(TrackingError, match="relative"):
        tracking.log_artifacts(rid, {"../escape.json": {}})
    with pytest.raises(TrackingError, match="cannot log"):
        tracking.log_artifacts(rid, {"ok.json": {}, "bad.json": object()})
    assert "ok.json" not in tracking.list_artifacts(rid)    # nothing half-written
    with pytest.raises(TrackingError, match="not found"):
        tracking.log_artifacts("0" * 32, {"a.json": {}})
    with pytest.raises(TrackingError, match="not a cin-ml training run"):
        tracking.load_run_bundle(rid)


def test_a_crash_marks_the_run_failed(folders, mlflow_store, fast_config, monkeypatch):
    import cin_ml.models
    from cin_ml.pipeline import run_train

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cin_ml.models, "train_model", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_train(folders / "virtual", "decrochage", models_config=fast_config)
    mlflow.set_tracking_uri(mlflow_store)
    runs = mlflow.search_runs(experiment_names=["cin-decrochage"])
    assert runs["status"].tolist() == ["FAILED"]
    with pytest.raises(TrackingError, match="FAILED"):
        tracking.load_run_bundle(runs["run_id"].iloc[0])


def test_store_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("CIN_ML_ARTIFACT_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    s = tracking.resolve_store()
    assert s.tracking_uri == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert s.artifact_root == str(tmp_path / "mlruns" / "artifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "./mlruns")
    with pytest.raises(TrackingError, match="file store"):
        tracking.resolve_store()


def test_logging_runs_finish_or_fail_with_one_line(mlflow_store):
    """Monitoring and virtual-css runs share the run lifecycle: FINISHED with their metrics,
    cin-ml's commit and version; a logging error ends the run FAILED and is one TrackingError
    line naming the run."""
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store)
    mid = tracking.log_monitoring_run({"cin.monitor.model": "m", "cin.monitor.version": "3"},
                                      {"fnr_gap(sex)": 0.125, "auc": None},
                                      {"monitoring/report.json": {"ok": True}})
    run = client.get_run(mid)
    assert run.info.status == "FINISHED" and run.info.run_name == "monitor m v3"
    assert run.data.metrics == {"fnr_gap.sex": 0.125}
    assert run.data.tags["cin.kind"] == "monitor" and "cin.git_commit" in run.data.tags
    vid = tracking.log_virtual_css_report(
        {"fidelity": {"quality": 0.9, "per_column": {"a": 1.0}}, "privacy": {"dcr": {"p5": 2}}},
        {"report.json": {}}, {"virtual": "d1"})
    run = client.get_run(vid)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"fidelity.quality": 0.9, "privacy.dcr.p5": 2.0}
    assert run.data.tags["cin.digest.virtual"] == "d1"
    with pytest.raises(TrackingError, match=r"^monitoring run \w+: ValueError: ") as err:
        tracking.log_monitoring_run({}, {"auc": "high"}, {})
    assert "\n" not in str(err.value)
    monitoring = client.get_experiment_by_name("cin-monitoring").experiment_id
    failed = client.search_runs([monitoring], "attributes.status = 'FAILED'")
    assert len(failed) == 1
