"""`cin-ml review-app` on the command line: a clear refusal without a governance key, and
the command the demo prints."""

from __future__ import annotations

from typer.testing import CliRunner


def test_review_app_without_a_governance_key_is_one_clear_line(tmp_path, monkeypatch):
    from cin_ml.cli import app

    for var in ("CIN_ML_GOVERNANCE_KEY", "CIN_ML_GOVERNANCE_KEY_FILE",
                "CIN_ML_GOVERNANCE_DEMO_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    res = CliRunner().invoke(app, ["review-app", "--store", uri, "--port", "0"])
    assert res.exit_code == 1
    assert "no governance key" in res.output and "Traceback" not in res.output


def test_the_demo_prints_a_command_that_names_the_store():
    from cin_ml.cli._review import review_app_command

    assert review_app_command("sqlite:////w/mlruns/mlflow.db", True) == \
        "cin-ml review-app --demo-key --store sqlite:////w/mlruns/mlflow.db"
    assert review_app_command("sqlite:////my dir/mlflow.db", False) == \
        "cin-ml review-app --store 'sqlite:////my dir/mlflow.db'"
