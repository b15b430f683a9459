"""The CLI: one-line refusals with exit code 1, gate lists, history --verify, check."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cin_ml.cli import app

from ._runs import AUTHOR

GOV = """
[governance]
purpose = "student_success_prediction"
[people]
committee = ["a.tremblay", "m.gagnon"]
operators = ["ops.bouchard"]
[floors]
min = { test_auc = 0.7 }
beat = { test_auc = "indicator_auc" }
[compare]
n_boot = 50
"""
CONSENT = """
[[agreements]]
id = "c1"
css_id = "CSS001"
dataset = "{ds}"
purpose = "student_success_prediction"
data = ["marks"]
retention_end = 2030-01-01
signatory = "DG"
signed = 2024-01-01
"""


@pytest.fixture()
def cli(gov_store, tmp_path, monkeypatch):
    cfg = tmp_path / "configs"
    cfg.mkdir()
    (cfg / "governance.toml").write_text(GOV)
    (cfg / "consent.toml").write_text(CONSENT.format(ds="academic")
                                      + CONSENT.format(ds="absences").replace('"c1"', '"c2"'))
    monkeypatch.setenv("CIN_ML_CONFIG_DIR", str(cfg))
    (tmp_path / "ws").mkdir()
    monkeypatch.chdir(tmp_path / "ws")   # the workspace: reports/ lands here, not in the repo
    runner = CliRunner()

    def call(*args):
        return runner.invoke(app, list(args))

    return call


def test_cli_workflow(cli, runs):
    r = cli("register", "--run", runs["ready"], "--author", AUTHOR)
    assert r.exit_code == 0, r.output
    assert "cin-ecriture-4e v1" in r.output
    r = cli("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
            "--reviewer", AUTHOR)
    assert r.exit_code == 1 and "not a member of the ethics committee" in r.output
    assert "Traceback" not in r.output
    r = cli("promote", "--model", "cin-ecriture-4e", "--version", "1",
            "--operator", "ops.bouchard")
    assert r.exit_code == 1 and "refused" in r.output and "approval:" in r.output
    assert cli("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
               "--reviewer", "m.gagnon", "--comment", "ok").exit_code == 0
    r = cli("promote", "--model", "cin-ecriture-4e", "--version", "1",
            "--operator", "ops.bouchard", "--why", "first")
    assert r.exit_code == 0, r.output
    assert "cin-ecriture-4e@champion → v1" in r.output
    r = cli("promote", "--model", "cin-ecriture-4e", "--version", "7",
            "--operator", "ops.bouchard")
    assert r.exit_code == 1 and "has no version 7" in r.output
    r = cli("history", "--model", "cin-ecriture-4e", "--verify")
    assert r.exit_code == 0 and "history verified" in r.output and "promote" in r.output
    r = cli("governance", "check", "--on", "2026-01-01")
    assert r.exit_code == 0 and "nothing to do" in r.output
    r = cli("governance", "check", "--on", "2030-01-02")
    # the champion had to be withdrawn: a repair, so a non-zero exit a scheduler alerts on
    assert r.exit_code == 2 and "consent" in r.output and "withdrawn" in r.output
    assert "repaired the registry" in r.output


def test_cli_history_verify_fails_on_tampering(cli, runs):
    from mlflow import MlflowClient

    assert cli("register", "--run", runs["ready"], "--author", AUTHOR).exit_code == 0
    c = MlflowClient()
    exp = c.get_experiment_by_name("cin-governance")
    run = c.search_runs([exp.experiment_id], "tags.`cin.event.type` = 'register'")[0]
    body = json.loads(run.data.tags["cin.event.json"])
    body["details"]["author"] = "someone.else"
    c.set_tag(run.info.run_id, "cin.event.json", json.dumps(body))
    r = cli("history", "--verify")
    assert r.exit_code == 1 and "history verification failed" in r.output
    assert "event #2" in r.output


@pytest.mark.parametrize(("args", "option", "bad"), [
    (("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
      "--reviewer", "m.gagnon", "--expires", "2026-13-01"), "--expires", "2026-13-01"),
    (("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
      "--reviewer", "m.gagnon", "--expires", "20261231"), "--expires", "20261231"),
    (("governance", "check", "--on", "2026-W01-1"), "--on", "2026-W01-1"),
])
def test_a_bad_date_is_one_line_naming_the_option(mlflow_store, tmp_path, args, option, bad):
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output
    assert option in lines[0] and "YYYY-MM-DD" in lines[0] and bad in lines[0]
    assert not (tmp_path / "mlflow.db").exists()    # refused before the store is opened


def test_parse_day_names_the_key():
    import datetime as dt

    from cin_ml.errors import GovernanceError
    from cin_ml.registry import parse_day

    assert parse_day(" 2026-12-31 ", "'expires'") == dt.date(2026, 12, 31)
    assert parse_day(None, "'expires'") is None and parse_day("  ", "'expires'") is None
    with pytest.raises(GovernanceError, match=r"^'on_date' must be a date YYYY-MM-DD; got "):
        parse_day("2026-02-30", "'on_date'")


def _local_cards(run_id: str) -> dict[str, str]:
    """The cards with the decision in the workspace (``reports/cards/<run>/reviewed/``)."""
    from pathlib import Path

    folder = Path("reports") / "cards" / run_id / "reviewed"
    return {lang: (folder / f"card.{lang}.html").read_text(encoding="utf-8")
            for lang in ("fr", "en")}


@pytest.mark.usefixtures("fresh_artifact_repos")
def test_the_card_with_the_decision_reaches_the_workspace(cli, runs):
    """review, promote, rollback and governance check copy the registry's reviewed card to
    reports/cards/<run>/reviewed/ (the workspace holds no card of these runs: cin-ml card
    wrote them elsewhere), the previous champion's too, and say where."""
    from pathlib import Path

    v1_run, v2_run = runs["ready"], runs["reseeded"]
    for rid in (v1_run, v2_run):
        assert cli("register", "--run", rid, "--author", AUTHOR).exit_code == 0
        assert not (Path("reports") / "cards" / rid).exists()
    r = cli("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
            "--reviewer", "m.gagnon", "--comment", "Pilote supervisé",
            "--expires", "2027-06-30")
    assert r.exit_code == 0, r.output
    where = f"reports/cards/{v1_run}/reviewed/card.fr.html"
    assert f"card with the decision: {where}" in r.output, r.output
    fr, en = _local_cards(v1_run).values()
    assert "Approuvé" in fr and "m.gagnon" in fr and "30 juin 2027" in fr
    assert "Pilote supervisé" in fr and "pas en service" in fr
    assert "Approved" in en and "June 30, 2027" in en

    r = cli("promote", "--model", "cin-ecriture-4e", "--version", "1",
            "--operator", "ops.bouchard")
    assert r.exit_code == 0, r.output
    assert where in r.output and "no longer" not in r.output
    fr, en = _local_cards(v1_run).values()
    assert "en service (modèle de production)" in fr and "serving (production model)" in en

    assert cli("review", "--model", "cin-ecriture-4e", "--version", "2", "--approve",
               "--reviewer", "m.gagnon", "--comment", "ok").exit_code == 0
    r = cli("promote", "--model", "cin-ecriture-4e", "--version", "2",
            "--operator", "ops.bouchard")
    assert r.exit_code == 0, r.output
    assert (f"card of v1 (no longer @champion): reports/cards/{v1_run}/reviewed/card.fr.html"
            in r.output), r.output
    fr, en = _local_cards(v1_run).values()
    assert "en service (modèle de production)" not in fr and "pas en service" in fr
    assert "serving (production model)" not in en
    assert "en service (modèle de production)" in _local_cards(v2_run)["fr"]

    r = cli("rollback", "--model", "cin-ecriture-4e", "--operator", "ops.bouchard",
            "--why", "drift in v2")
    assert r.exit_code == 0, r.output
    assert f"reports/cards/{v1_run}/reviewed/card.fr.html" in r.output
    assert f"card of v2 (no longer @champion): reports/cards/{v2_run}/" in r.output
    assert "en service (modèle de production)" in _local_cards(v1_run)["fr"]
    assert "pas en service" in _local_cards(v2_run)["fr"]

    # the agreements lapse: check withdraws @champion and the cards say so
    r = cli("governance", "check", "--on", "2030-01-02")
    assert r.exit_code == 2 and "withdrawn" in r.output, r.output
    assert f"card of cin-ecriture-4e v1 (serving status): reports/cards/{v1_run}/" in r.output
    assert "en service (modèle de production)" not in _local_cards(v1_run)["fr"]
    assert "pas en service" in _local_cards(v1_run)["fr"]


@pytest.mark.usefixtures("fresh_artifact_repos")
def test_an_expired_approval_says_so_on_its_card(cli, runs):
    """governance check expires an approval and withdraws @champion: the re-rendered card
    states the expiry (not "pending") and that the version no longer serves."""
    rid = runs["ready"]
    assert cli("register", "--run", rid, "--author", AUTHOR).exit_code == 0
    assert cli("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
               "--reviewer", "m.gagnon", "--expires", "2027-01-15").exit_code == 0
    assert cli("promote", "--model", "cin-ecriture-4e", "--version", "1",
               "--operator", "ops.bouchard").exit_code == 0
    r = cli("governance", "check", "--on", "2027-01-16")
    assert r.exit_code == 2 and "expired" in r.output, r.output
    fr, en = _local_cards(rid).values()
    assert "Expirée" in fr and "15 janvier 2027" in fr and "pas en service" in fr
    assert "En attente" not in fr
    assert "Expired" in en and "January 15, 2027" in en and "Pending" not in en
