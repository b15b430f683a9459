"""The same workflow and attacks on both stores (``store`` fixture): on the embedded store
identities are declared and a stock client's forbidden edits are detected and refused; on the
team server identities are authenticated and the same edits are HTTP 403."""

from __future__ import annotations

import pytest
from governance._runs import AUTHOR
from governance.conftest import agreements, ctx, gov_store, runs, settings  # noqa: F401
from governance.test_attacks import _forge_approval

from cin_ml.errors import GateError

from ._team import PASSWORDS, user_env

# not gov_runs: the session fixture is tests/conftest.py's; imported here it would be a second
# one, and the governance template trained twice in one session
M = "cin-ecriture-4e"


class Embedded:
    """Declared identities, registry functions in process (tests/governance fixtures)."""

    kind = "embedded"

    def __init__(self, ctx, runs):  # noqa: F811
        self.ctx, self.runs = ctx, runs

    def fresh(self) -> str:
        return self.runs["ready"]

    def act(self, user: str, action: str, **p) -> dict:
        from cin_ml import registry

        if action == "register":
            return registry.register(self.ctx, p["run_id"], author=AUTHOR)
        if action == "review":
            return registry.review(self.ctx, M, p["version"], reviewer=user, approve=True,
                                   comment=p.get("comment", "ok"))
        if action == "promote":
            return registry.promote(self.ctx, M, p["version"], operator=user)
        return registry.verify(self.ctx).to_dict()

    def client(self, user: str):
        from mlflow import MlflowClient

        return MlflowClient()


class Server:
    """Authenticated identities, actions through the governance service."""

    kind = "server"

    def __init__(self, server, runs):  # noqa: F811
        self.server, self.runs = server, runs

    def fresh(self) -> str:
        return self.runs.fresh()

    def act(self, user: str, action: str, **p) -> dict:
        from cin_ml.registry import act_on_server

        p = {"model": M, "approve": True, "comment": "ok", **p} if action != "register" \
            else p
        return act_on_server(self.server.url, action, p, username=user,
                             password=PASSWORDS[user])

    def client(self, user: str):
        from mlflow import MlflowClient

        with user_env(user, self.server.url):
            return MlflowClient(tracking_uri=self.server.url, registry_uri=self.server.url)


@pytest.fixture(params=["embedded", "server"])
def store(request):
    if request.param == "embedded":
        return Embedded(request.getfixturevalue("ctx"), request.getfixturevalue("runs"))
    return Server(request.getfixturevalue("team_server"),
                  request.getfixturevalue("server_runs"))


def _as(store, user):
    """A context acting as ``user`` for the stock client (credentials on the server)."""
    if store.kind == "server":
        return user_env(user, store.server.url)
    import contextlib

    return contextlib.nullcontext()


def test_workflow_register_review_promote(store):
    v = store.act("d.lavoie", "register", run_id=store.fresh())["version"]
    rev = store.act("a.tremblay", "review", version=v)
    assert (rev["state"], rev["reviewer"]) == ("approved", "a.tremblay")
    out = store.act("ops.bouchard", "promote", version=v)
    assert out["alias"] == "champion" and out["gates"]["ok"]
    with _as(store, "d.lavoie"):
        assert str(store.client("d.lavoie").get_model_version_by_alias(
            M, "champion").version) == v
    assert store.act("a.tremblay", "verify")["ok"]


def test_stock_client_forging_an_approval(store):
    """Embedded: the forged tags are written, and promotion is refused by the history gate.
    Server: the write itself is refused (403) and nothing changes."""
    v = store.act("d.lavoie", "register", run_id=store.fresh())["version"]
    with _as(store, "ops.bouchard"):
        c = store.client("ops.bouchard")
        if store.kind == "server":
            with pytest.raises(Exception, match="403"):  # noqa: PT011 - RestException
                _forge_approval(c, v)
            assert c.get_model_version(M, v).tags["cin.review.state"] == "pending"
        else:
            _forge_approval(c, v)
    with pytest.raises(GateError) as err:
        store.act("ops.bouchard", "promote", version=v)
    assert "approval" in err.value.failed_gates
    assert ("history" in err.value.failed_gates) == (store.kind == "embedded")
    assert store.act("a.tremblay", "verify")["ok"] == (store.kind == "server")


def test_stock_client_moving_champion(store):
    """Embedded: the alias moves and verify reports it. Server: 403, alias unchanged."""
    v = store.act("d.lavoie", "register", run_id=store.fresh())["version"]
    with _as(store, "d.lavoie"):
        c = store.client("d.lavoie")
        if store.kind == "server":
            with pytest.raises(Exception, match="403"):  # noqa: PT011 - RestException
                c.set_registered_model_alias(M, "champion", v)
            champ = c.get_registered_model(M).aliases.get("champion")
            assert champ != v
        else:
            c.set_registered_model_alias(M, "champion", v)
    rep = store.act("a.tremblay", "verify")
    assert rep["ok"] == (store.kind == "server")
    if store.kind == "embedded":
        assert any("champion" in p for p in rep["problems"])
