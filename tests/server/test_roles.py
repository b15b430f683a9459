"""Roles enforced by the server: every forbidden write with the STOCK MlflowClient and each
role's credentials is HTTP 403; governance actions go through the governance service, which
takes the identity from authentication."""

from __future__ import annotations

import pytest

from ._team import PASSWORDS

M = "cin-ecriture-4e"
ROLES = ("d.lavoie", "a.tremblay", "ops.bouchard")  # data scientist, committee, operator


def act(server, user, action, password=None, **params):
    from cin_ml.registry import act_on_server

    return act_on_server(server.url, action, params, username=user,
                         password=password or PASSWORDS[user])


@pytest.fixture(scope="module")
def champion(team_server, server_runs):
    """A version promoted to @champion by the workflow (register -> review -> promote)."""
    rid = server_runs.fresh()
    v = act(team_server, "d.lavoie", "register", run_id=rid)["version"]
    act(team_server, "a.tremblay", "review", model=M, version=v, approve=True, comment="ok")
    act(team_server, "ops.bouchard", "promote", model=M, version=v, alias="champion")
    return v


def stock_client(server, user, user_env):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server.url, registry_uri=server.url)


def _forbidden(fn) -> str:
    with pytest.raises(Exception) as info:  # noqa: PT011 - the stock client's RestException
        fn()
    assert "403" in str(info.value), str(info.value)[:300]
    return str(info.value)


@pytest.mark.parametrize("user", ROLES)
def test_stock_client_writes_on_models_and_history_are_403(team_server, champion, user,
                                                           user_env):
    from mlflow import MlflowClient

    from cin_ml.registry import EXPERIMENT

    with user_env(user, team_server.url):
        c = MlflowClient(tracking_uri=team_server.url, registry_uri=team_server.url)
        gov = c.get_experiment_by_name(EXPERIMENT)  # reading is allowed
        event_run = c.search_runs([gov.experiment_id], max_results=1)[0].info.run_id
        other = str(int(champion) + 1)
        attacks = {
            "move @champion": lambda: c.set_registered_model_alias(M, "champion", "1"),
            "delete @champion": lambda: c.delete_registered_model_alias(M, "champion"),
            "write a review tag": lambda: c.set_model_version_tag(
                M, champion, "cin.review.state", "rejected"),
            "edit the production version's tags": lambda: c.set_model_version_tag(
                M, champion, "cin.card.sha256", "0" * 64),
            "delete a version tag": lambda: c.delete_model_version_tag(
                M, champion, "cin.review"),
            "create a version": lambda: c.create_model_version(M, "models:/m-x"),
            "delete the production version": lambda: c.delete_model_version(M, champion),
            "untag the model": lambda: c.set_registered_model_tag(M, "cin.managed", "false"),
            "forge a history event": lambda: c.create_run(gov.experiment_id),
            "edit a history event": lambda: c.set_tag(event_run, "cin.event.hash", "0" * 64),
            "delete a history event": lambda: c.delete_run(event_run),
            "move the history head": lambda: c.set_experiment_tag(
                gov.experiment_id, "cin.history.head", "1:00"),
            "delete the history": lambda: c.delete_experiment(gov.experiment_id),
        }
        for what, fn in attacks.items():
            assert "Permission denied" in _forbidden(fn), what
        assert str(c.get_model_version_by_alias(M, "champion").version) == champion
        del other
    report = act(team_server, "a.tremblay", "verify")
    assert report["ok"] and not report["problems"]


def test_roles_are_checked_against_the_authenticated_user(team_server, server_runs):
    from cin_ml.errors import GateError, GovernanceError

    rid = server_runs.fresh()
    v = act(team_server, "d.lavoie", "register", run_id=rid)["version"]
    with pytest.raises(GovernanceError, match=r"HTTP 403.*'d.lavoie' may not review"):
        act(team_server, "d.lavoie", "review", model=M, version=v, approve=True, comment="")
    with pytest.raises(GovernanceError, match=r"HTTP 403.*'a.tremblay' may not promote"):
        act(team_server, "a.tremblay", "promote", model=M, version=v)
    with pytest.raises(GovernanceError, match=r"HTTP 403.*--reviewer 'm.gagnon' is not the "
                                              r"authenticated user 'a.tremblay'"):
        act(team_server, "a.tremblay", "review", model=M, version=v, approve=True,
            comment="", reviewer="m.gagnon")
    with pytest.raises(GovernanceError, match=r"HTTP 401"):
        act(team_server, "a.tremblay", "review", password="wrong-password", model=M,
            version=v, approve=True, comment="")
    # an operator promotes only what passes the gates: this version is not approved
    with pytest.raises(GateError, match="approval") as info:
        act(team_server, "ops.bouchard", "promote", model=M, version=v)
    assert "approval" in info.value.failed_gates
    # a bad date sent straight to the service: one line naming the request key
    with pytest.raises(GovernanceError, match=r"'expires' must be a date YYYY-MM-DD; got "
                                              r"'2026-13-01'"):
        act(team_server, "a.tremblay", "review", model=M, version=v, approve=True,
            comment="", expires="2026-13-01")
    with pytest.raises(GovernanceError, match=r"'on_date' must be a date YYYY-MM-DD"):
        act(team_server, "ops.bouchard", "check", on_date="tomorrow")
    rev = act(team_server, "a.tremblay", "review", model=M, version=v, approve=True,
              comment="ok", reviewer="A.Tremblay ")  # the same person, normalized
    assert rev["reviewer"] == "a.tremblay"
    events = act(team_server, "a.tremblay", "verify")
    assert events["ok"]


def test_cli_workflow_identity_from_authentication(team_server, server_runs, user_env):
    """register -> review -> promote with the cin-ml CLI: who acts is the authenticated
    user; a --reviewer naming someone else is refused; the stock pyfunc loads @champion."""
    from typer.testing import CliRunner

    from cin_ml.cli import app
    from cin_ml.registry import history, make_ctx

    rid = server_runs.fresh()
    runner = CliRunner()

    def cli(user, *args):
        with user_env(user, team_server.url):
            return runner.invoke(app, list(args))

    r = cli("d.lavoie", "register", "--run", rid)
    assert r.exit_code == 0, r.output
    v = r.output.split(" v", 1)[1].split()[0]
    r = cli("a.tremblay", "review", "--model", M, "--version", v, "--approve",
            "--reviewer", "m.gagnon", "--comment", "ok")
    assert r.exit_code == 1 and "HTTP 403" in r.output and "m.gagnon" in r.output
    r = cli("a.tremblay", "review", "--model", M, "--version", v, "--approve",
            "--comment", "ok")
    assert r.exit_code == 0 and "approved by a.tremblay" in r.output, r.output
    r = cli("ops.cote", "promote", "--model", M, "--version", v, "--why", "cli")
    assert r.exit_code == 0 and f"@champion → v{v}" in r.output, r.output
    with user_env("s.nguyen", team_server.url):
        import mlflow.pyfunc

        model = mlflow.pyfunc.load_model(f"models:/{M}@champion")
        assert model.metadata is not None
        events = [e for e in history(make_ctx(store=team_server.url), M) if e.version == v]
    assert [(e.type, e.actor) for e in events if not e.type.endswith(".started")] == [
        ("register", "d.lavoie"), ("review", "a.tremblay"), ("promote", "ops.cote")]
