"""End to end: simulate -> de-identify -> train (MLflow) -> run_audit logs fairness/ to the run."""

from __future__ import annotations

import json

import pytest

from cin_ml.config import packaged_config_dir

pytestmark = pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning",
                                        "ignore::UserWarning")


def test_run_audit_logs_audit_and_plots(tmp_path, mlflow_store, monkeypatch, fast_models_config):
    from typer.testing import CliRunner

    from cin_ml.cli import app
    from cin_ml.pipeline import run_deidentify, run_simulate, run_train
    from cin_ml.tracking import list_artifacts, load_artifact

    monkeypatch.chdir(tmp_path)
    run_simulate(out=tmp_path / "src", truth_out=tmp_path / "truth", students=4000, seed=5)
    run_deidentify(tmp_path / "src", tmp_path / "deid", demo_key=True)
    # single test cohort, no tuning: what is tested is the audit command and what it logs
    run_id = run_train(tmp_path / "deid", "ecriture_4e",
                       models_config=fast_models_config(tmp_path, 60, rolling=False))["run_id"]
    policy = packaged_config_dir() / "fairness.toml"
    out = CliRunner().invoke(app, ["audit", "--run", run_id, "--policy", str(policy),
                                   "--n-boot", "60"])
    assert out.exit_code == 0, out.output
    assert "Fairness verdicts" in out.output
    arts = list_artifacts(run_id)
    assert "fairness/audit.json" in arts and "fairness/mitigation.json" in arts
    assert any(a.startswith("fairness/plots/") for a in arts)
    doc = load_artifact(run_id, "fairness/audit.json")
    doc = doc if isinstance(doc, dict) else json.loads(doc)
    assert doc["kind"] == "fairness_audit" and doc["n_boot"] == 60
    for b in doc["breakdowns"]:
        for g in b["groups"]:
            assert g["suppressed"] or g["n"] >= doc["policy"]["suppress_below"]
    bad = CliRunner().invoke(app, ["audit", "--run", "nope", "--policy", str(policy)])
    assert bad.exit_code == 1


def test_run_audit_survives_a_mitigation_that_cannot_run(tmp_path, mlflow_store, monkeypatch,
                                                         fast_models_config):
    """3,000 students (seed 5): a test cohort of ~165 with groups of 0-3 positives. Fairlearn's
    ThresholdOptimizer refused it ("Degenerate labels") and the whole audit was lost; now the
    audit is logged and the mitigation record says which arm was not computed and why."""
    from cin_ml.pipeline import run_audit, run_deidentify, run_simulate, run_train
    from cin_ml.tracking import list_artifacts, load_artifact

    monkeypatch.chdir(tmp_path)
    run_simulate(out=tmp_path / "src", truth_out=tmp_path / "truth", students=3000, seed=5)
    run_deidentify(tmp_path / "src", tmp_path / "deid", demo_key=True)
    # one test cohort (the power rule off): the small test set is what this test is about
    run_id = run_train(tmp_path / "deid", "ecriture_4e",
                       models_config=fast_models_config(tmp_path, 50, rolling=False))["run_id"]
    policy = packaged_config_dir() / "fairness.toml"
    s = run_audit(run_id, policy, n_boot=50)
    assert "fairness/audit.json" in list_artifacts(run_id)
    mit = load_artifact(run_id, "fairness/mitigation.json")
    mit = mit if isinstance(mit, dict) else json.loads(mit)
    assert mit == s["mitigation"]
    rows = {r["strategy"]: r for r in mit["rows"]}
    assert rows["base"]["computed"]
    assert not mit["complete"]
    for arm in ("group_thresholds", "threshold_optimizer"):
        r = rows[arm]
        assert not r["computed"] and r["reason"] and mit["not_computed"][arm] == r["reason"]
        assert all(r[k] is None for k in ("recall", "precision", "worst_fnr", "fnr_gap"))
    assert mit["attribute"] in mit["not_computed"]["threshold_optimizer"]
