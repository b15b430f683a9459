"""``cin-ml review-app`` on the real team server, without a browser (Flask test client):
credentials are HTTP basic auth checked by the server, reads run as that user, the decision
goes to the server's governance service as that user, which checks the role."""

from __future__ import annotations

import base64
import json
import re

import pytest

from ._team import PASSWORDS

M = "cin-ecriture-4e"


def _auth(user: str, password: str | None = None) -> dict:
    token = base64.b64encode(f"{user}:{password or PASSWORDS[user]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def pending(team_server, server_runs):
    """A version registered on the server by d.lavoie, not yet reviewed."""
    from cin_ml.registry import act_on_server

    rid = server_runs.fresh()
    return act_on_server(team_server.url, "register", {"run_id": rid}, username="d.lavoie",
                         password=PASSWORDS["d.lavoie"])["version"]


@pytest.fixture()
def client(team_server, monkeypatch):
    """The review app on the team server (the server's own policy), its test client."""
    from cin_ml.registry import load_governance_settings
    from cin_ml.review_app import create_app

    for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "CIN_ML_ARTIFACT_ROOT",
              "CIN_ML_USER"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team_server.url)
    app = create_app(team_server.url,
                     settings=load_governance_settings(team_server.root / "governance.toml"))
    return app.test_client()


def _reviews(server, version: str) -> list:
    from cin_ml.registry import history, make_ctx

    from ._team import user_env

    with user_env("s.nguyen", server.url):
        return [e for e in history(make_ctx(store=server.url), M)
                if e.version == version and e.type == "review"]


def _form(client, page: str, user: str) -> dict:
    r = client.get(f"{page}?lang=en", headers=_auth(user))
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:800]
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            "card_sha256": re.search(r'name="card_sha256" value="([^"]+)"', html).group(1)}


def test_review_app_on_the_team_server(team_server, pending, client):
    page = f"/models/{M}/versions/{pending}"
    # (c) a wrong password: 401, the browser asks again
    r = client.get(page, headers=_auth("a.tremblay", "wrong-password"))
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]

    # (a) a data scientist reads the page, but her decision is refused by the server
    form = _form(client, page, "d.lavoie")
    r = client.post(f"{page}/decision", headers={**_auth("d.lavoie"),
                                                 "Origin": "http://localhost"},
                    data={**form, "decision": "approve", "comment": "mine",
                          "conditions": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 403, html[:800]
    assert "Refused:" in html and "d.lavoie" in html and "may not review" in html, html[:2000]
    assert "Traceback" not in html
    assert _reviews(team_server, pending) == []

    # (b) a committee member approves with a condition
    form = _form(client, page, "a.tremblay")
    r = client.post(f"{page}/decision", headers={**_auth("a.tremblay"),
                                                 "Origin": "http://localhost"},
                    data={**form, "decision": "approve", "comment": "fine",
                          "conditions": "re-audit after one school year"})
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    (event,) = _reviews(team_server, pending)
    assert event.actor == "a.tremblay" and event.details["decision"] == "approved"
    # the free-text condition is in the version's review record (written by that event)
    from mlflow import MlflowClient

    from cin_ml.run_contract import VersionTag

    from ._team import user_env

    with user_env("s.nguyen", team_server.url):
        tags = MlflowClient(tracking_uri=team_server.url).get_model_version(M, pending).tags
    record = json.loads(tags[VersionTag.REVIEW])
    assert record["reviewer"] == "a.tremblay" and record["state"] == "approved"
    assert record["conditions"] == "re-audit after one school year"


def test_the_committee_badge_comes_from_the_server_not_the_local_policy(team_server, pending,
                                                                         monkeypatch):
    """The page's local governance.toml claims the data scientist sits on the committee and
    the committee member does not: the badge follows the server's list."""
    from cin_ml.registry import load_governance_settings
    from cin_ml.review_app import create_app

    for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "CIN_ML_USER"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team_server.url)
    server_policy = load_governance_settings(team_server.root / "governance.toml")
    assert "a.tremblay" in server_policy.people.committee
    wrong = server_policy.model_copy(update={"people": server_policy.people.model_copy(
        update={"committee": ("d.lavoie",)})})
    client = create_app(team_server.url, settings=wrong).test_client()
    page = f"/models/{M}/versions/{pending}?lang=en"
    member = client.get(page, headers=_auth("a.tremblay")).get_data(as_text=True)
    other = client.get(page, headers=_auth("d.lavoie")).get_data(as_text=True)
    assert "ethics committee member" in member and "not a committee member" not in member
    assert "not a committee member" in other
