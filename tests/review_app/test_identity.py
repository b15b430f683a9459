"""The Identity seam without a browser: the server path checks credentials against the
server and acts as the authenticated user; the strings exist in both languages."""

from __future__ import annotations

import base64
import contextlib

import pytest


def test_every_string_exists_in_both_languages():
    from cin_ml.review_app._i18n import strings

    assert set(strings("fr")) == set(strings("en"))
    assert all(strings("fr")[k].strip() and strings("en")[k].strip() for k in strings("fr"))


@pytest.fixture()
def fake_server():
    """A loopback HTTP server answering ``users/current`` like MLflow's basic-auth app for
    one user (alice / s3cret)."""
    from werkzeug.wrappers import Request, Response

    from cin_ml.review_app import running

    @Request.application
    def app(request):
        ok = (request.path == "/api/2.0/mlflow/users/current" and request.authorization
              and request.authorization.username == "alice"
              and request.authorization.password == "s3cret")
        return Response('{"user": {"username": "alice"}}' if ok else "", 200 if ok else 401)

    with running(app) as url:
        yield url


def test_server_credentials_are_checked_against_the_server(fake_server):
    from cin_ml.review_app import check_server_credentials

    assert check_server_credentials(fake_server, "alice", "s3cret")
    assert not check_server_credentials(fake_server, "alice", "wrong")


def test_an_unreachable_server_is_a_clear_error():
    from cin_ml.errors import CinMLError
    from cin_ml.review_app import check_server_credentials

    with pytest.raises(CinMLError, match="unreachable"):
        check_server_credentials("http://127.0.0.1:9", "alice", "x", timeout_s=2)


def _basic(user: str, password: str):
    from werkzeug.datastructures import Authorization

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return Authorization.from_header(f"Basic {token}")


def test_the_server_identity_acts_as_the_authenticated_user(fake_server):
    from cin_ml.review_app import ServerIdentity

    calls = []

    @contextlib.contextmanager
    def act_as(name, password):
        calls.append((name, password))
        yield

    ident = ServerIdentity(fake_server, act_as=act_as)
    assert ident.principal({}, None) is None
    assert ident.principal({}, _basic("alice", "wrong")) is None
    who = ident.principal({}, _basic("alice", "s3cret"))
    assert who is not None and who.name == "alice" and who.authenticated
    with ident.acting(who):
        pass
    assert calls == [("alice", "s3cret")]


def test_the_default_act_as_sets_and_restores_mlflow_credentials(monkeypatch):
    import os

    from cin_ml.review_app import act_with_environment

    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "before")
    with act_with_environment("alice", "s3cret"):
        assert os.environ["MLFLOW_TRACKING_USERNAME"] == "alice"
        assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "s3cret"
    assert "MLFLOW_TRACKING_USERNAME" not in os.environ
    assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "before"


def test_the_store_chooses_the_identity():
    from cin_ml.review_app import DeclaredIdentity, ServerIdentity, identity_for

    assert isinstance(identity_for("sqlite:////tmp/x/mlflow.db"), DeclaredIdentity)
    assert isinstance(identity_for("https://mlflow.example"), ServerIdentity)


def test_refusals_read_in_the_page_language():
    from cin_ml.review_app._refusals import refusal_text

    msg = ("review of cin-ecriture-4e v2 refused: 'ds.lavoie' is not a member of the ethics "
           "committee (governance.toml [people] committee); 'ds.lavoie' is the author of "
           "cin-ecriture-4e v2 and may not review it; a rejection needs a comment saying why")
    fr = refusal_text(msg, "fr")
    assert fr == ("« ds.lavoie » n'est pas membre du comité d'éthique (governance.toml "
                  "[people] committee); « ds.lavoie » est l'auteur·e de cin-ecriture-4e v2 et "
                  "ne peut pas la réviser; un rejet doit être motivé par un commentaire")
    assert refusal_text(msg, "en").startswith("'ds.lavoie' is not a member")
