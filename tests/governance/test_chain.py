"""The README's chain, end to end, through the CLI as a user runs it: a fresh directory, no
MLFLOW_TRACKING_URI (the embedded default store), train → audit → explain → card → register
→ review → promote → predict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cin_ml.cli import app

M = "cin-ecriture-4e"
AUTHOR, REVIEWER, OPERATOR = "ds.lavoie", "a.tremblay", "ops.bouchard"


def _school_to_score(source) -> str:
    """The primary school with the most students at the end of grade 3 in the last year."""
    enr = pd.read_parquet(source / "enrolments.parquet",
                          columns=["school_year", "school_id", "grade"])
    last = enr[(enr["school_year"] == enr["school_year"].max()) & (enr["grade"] == 3)]
    return str(last["school_id"].value_counts().idxmax())


@pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning")
def test_readme_chain_through_the_cli(gov_runs, fast_models_config, tmp_path, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    work = tmp_path / "user"
    work.mkdir()
    monkeypatch.chdir(work)
    for var in ("MLFLOW_TRACKING_URI", "CIN_ML_ARTIFACT_ROOT", "CIN_ML_USER",
                "CIN_ML_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    mlflow.set_tracking_uri(None)
    # no governance key configured: the README's --demo-key, anchor in the user's state folder
    for var in ("CIN_ML_GOVERNANCE_KEY", "CIN_ML_GOVERNANCE_KEY_FILE",
                "CIN_ML_GOVERNANCE_DEMO_KEY", "CIN_ML_GOVERNANCE_ANCHOR_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    models = fast_models_config(tmp_path, 20, rolling=False)  # the chain, not validation
    runner = CliRunner()

    def cli(*args):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == 0, f"cin-ml {' '.join(map(str, args))}:\n{r.output}"
        return r.output

    out = cli("train", "--task", "ecriture_4e", "--data", gov_runs.deidentified,
              "--models-config", models)
    rid = re.search(r"\b[0-9a-f]{32}\b", out).group(0)
    store = MlflowClient(tracking_uri=f"sqlite:///{work / 'mlruns' / 'mlflow.db'}")
    assert store.get_run(rid).info.status == "FINISHED"  # in the default store, in the cwd
    cli("audit", "--run", rid, "--n-boot", 20)
    cli("explain", "--run", rid)
    cli("card", "--run", rid, "--lang", "fr", "--ready")
    run_sha = Path(store.download_artifacts(rid, "card/card.sha256", str(tmp_path)))
    run_sha = run_sha.read_text(encoding="utf-8").split()[0]
    audit = json.loads(Path(store.download_artifacts(rid, "fairness/audit.json", str(tmp_path)))
                       .read_text(encoding="utf-8"))
    fails = sorted(f"{b}:{m}" for b, ms in audit["verdicts"].items()
                   for m, v in ms.items() if v == "fail")

    # once crashed here: the registry followed a global tracking URI, not the default store
    r = runner.invoke(app, ["register", "--run", rid, "--author", AUTHOR])
    assert r.exit_code == 1 and "no governance key" in r.output, r.output
    assert f"{M} v1" in cli("register", "--run", rid, "--author", AUTHOR, "--demo-key")
    cli("review", "--model", M, "--version", 1, "--approve", "--reviewer", REVIEWER,
        "--comment", "Approved for a supervised pilot", "--demo-key",
        *[x for f in fails for x in ("--accept-fairness", f)])
    cli("promote", "--model", M, "--version", 1, "--alias", "champion",
        "--operator", OPERATOR, "--why", "first model", "--demo-key")

    mv = store.get_model_version(M, "1")
    review = json.loads(mv.tags["cin.review"])
    assert mv.tags["cin.review.state"] == "approved"
    assert (review["state"], review["reviewer"]) == ("approved", REVIEWER)
    assert mv.tags["cin.author"] == AUTHOR
    assert review["card_sha256"] == run_sha == mv.tags["cin.card.sha256"]
    champion = store.get_model_version_by_alias(M, "champion")
    assert (str(champion.version), champion.run_id) == ("1", rid)
    out = cli("history", "--model", M, "--verify", "--demo-key")
    assert "history verified" in out
    assert list((tmp_path / "state" / "cin-ml" / "anchors").glob("*.head"))

    school = _school_to_score(gov_runs.source)
    cli("predict", "--model", f"{M}@champion", "--data", gov_runs.source, "--role", "school",
        "--scope", school, "--demo-key")
    report = work / "reports" / "predict" / f"school-{school}"
    assert (report / "report.html").is_file()
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["model"]["run_id"], str(manifest["model"]["version"])) == (rid, "1")
    listed = pd.read_csv(report / "students.csv", dtype={"student_id": str})
    enr = pd.read_parquet(gov_runs.source / "enrolments.parquet")
    last = enr[(enr["school_year"] == enr["school_year"].max()) & (enr["grade"] == 3)]
    here = set(last.loc[last["school_id"].astype(str) == school, "student_id"].astype(str))
    elsewhere = set(last["student_id"].astype(str)) - here
    assert len(listed) > 0 and elsewhere
    assert set(listed["student_id"]) == here, "the list is not exactly that school's students"
    rows = pd.read_csv(report / "risk.csv", dtype={"school_id": str})["school_id"]
    assert set(rows) - {"Total"} == {school}
