"""Issue 15: user text is never Rich markup. A review comment holding ``[/]`` or
``[bold]x`` prints literally in `history` and `history --verify` (it used to crash them
forever after), and a promotion reason with markup prints as typed."""

from __future__ import annotations

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
"""
CONSENT = """
[[agreements]]
id = "{id}"
css_id = "CSS001"
dataset = "{ds}"
purpose = "student_success_prediction"
data = ["marks"]
retention_end = 2030-01-01
signatory = "DG"
signed = 2024-01-01
"""
COMMENT = "ok [/] then [bold]x and [red]y[/red] \\[z]"


@pytest.fixture()
def cli(gov_store, tmp_path, monkeypatch):
    cfg = tmp_path / "configs"
    cfg.mkdir()
    (cfg / "governance.toml").write_text(GOV)
    (cfg / "consent.toml").write_text(CONSENT.format(id="c1", ds="academic")
                                      + CONSENT.format(id="c2", ds="absences"))
    monkeypatch.setenv("CIN_ML_CONFIG_DIR", str(cfg))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_markup_in_a_review_comment_prints_literally_in_history(cli, runs):
    assert cli("register", "--run", runs["ready"], "--author", AUTHOR).exit_code == 0
    r = cli("review", "--model", "cin-ecriture-4e", "--version", "1", "--approve",
            "--reviewer", "m.gagnon", "--comment", COMMENT)
    assert r.exit_code == 0, r.output
    for args in (("history",), ("history", "--verify")):
        r = cli(*args, "--model", "cin-ecriture-4e")
        assert r.exit_code == 0, r.output
        assert "Traceback" not in r.output
        for token in COMMENT.split():  # the table may wrap the comment over lines
            assert token in r.output, (token, r.output)
    r = cli("history", "--verify")
    assert r.exit_code == 0 and "history verified" in r.output
