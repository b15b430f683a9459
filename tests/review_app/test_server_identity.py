"""The team-server path of the review page, without a server: credentials come from HTTP
basic auth, every read runs inside ``act_as`` and the decision is submitted as the
authenticated user (the team server's governance client plugs in as ``submit``)."""

from __future__ import annotations

import base64
import contextlib
import re

from tests.governance._policy import AGREEMENTS, POLICY, TODAY

from ._store import COMMITTEE, MODEL


def test_a_decision_on_a_team_server_is_submitted_as_the_authenticated_user(review_store):
    from cin_ml.config import settings_from_dict
    from cin_ml.consent import ConsentRegistry
    from cin_ml.registry import GovernanceSettings
    from cin_ml.review_app import ServerIdentity, create_app

    acted, submitted, asked = [], [], []

    @contextlib.contextmanager
    def act_as(user, password):
        acted.append(user)
        yield

    def submit(uri, action, params, *, username, password):
        if action == "roles":  # the badge asks the server, not the page's local policy
            asked.append(username)
            return {"user": username, "roles": ["committee"]}
        submitted.append((uri, action, params, username, password))
        return {"state": "approved", "reviewer": params["reviewer"], "event": 99}

    ident = ServerIdentity("https://mlflow.example", act_as=act_as, submit=submit,
                           check=lambda uri, u, p: (u, p) == ("A.Tremblay", "pw"))
    app = create_app(settings=settings_from_dict(GovernanceSettings, POLICY, "test policy"),
                     consent=ConsentRegistry(agreements=AGREEMENTS), today=TODAY,
                     identity=ident)
    c = app.test_client()
    page = f"/models/{MODEL}/versions/{review_store['pending']}"
    assert c.get(page).status_code == 401  # the browser asks for the server credentials
    bad = {"Authorization": "Basic " + base64.b64encode(b"A.Tremblay:nope").decode()}
    assert c.get(page, headers=bad).status_code == 401
    auth = {"Authorization": "Basic " + base64.b64encode(b"A.Tremblay:pw").decode()}
    r = c.get(page, headers=auth)
    assert r.status_code == 200 and acted == ["A.Tremblay"]
    html = r.get_data(as_text=True)
    assert asked == ["A.Tremblay"] and "membre du comité" in html
    assert "pas membre du comité" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sha = re.search(r'name="card_sha256" value="([^"]+)"', html).group(1)
    # an end date not YYYY-MM-DD: the page says so and nothing is submitted
    r = c.post(f"{page}/decision", headers={**auth, "Origin": "http://localhost"},
               data={"csrf_token": token, "card_sha256": sha, "decision": "approve",
                     "comment": "ok", "expires": "31/12/2026"})
    assert r.status_code == 400 and "AAAA-MM-JJ" in r.get_data(as_text=True)
    assert submitted == []
    r = c.post(f"{page}/decision", headers={**auth, "Origin": "http://localhost"},
               data={"csrf_token": token, "card_sha256": sha, "decision": "approve",
                     "comment": "ok", "conditions": "yearly review", "expires": "2026-12-31",
                     "accept": ["sex:fnr"]})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    ((uri, action, params, user, password),) = submitted
    assert (uri, action, user, password) == ("https://mlflow.example", "review",
                                             "A.Tremblay", "pw")
    assert params == {"model": MODEL, "version": review_store["pending"], "approve": True,
                      "reviewer": COMMITTEE, "comment": "ok", "conditions": "yearly review",
                      "accept_fairness": ["sex:fnr"], "expires": "2026-12-31"}


def test_the_committee_badge_on_a_team_server_is_the_servers_word_not_the_local_policy():
    """A local governance.toml that lists the user on the committee does not make the page
    say so when the server's list does not (and an unreachable service reads as not)."""
    from cin_ml.config import settings_from_dict
    from cin_ml.errors import GovernanceError
    from cin_ml.registry import GovernanceSettings
    from cin_ml.review_app import Principal, ServerIdentity

    local = settings_from_dict(GovernanceSettings, POLICY, "test policy")
    who = Principal(COMMITTEE, authenticated=True, login="A.Tremblay", secret="pw")
    assert who.name in local.people.committee
    answers = {"roles": []}

    def submit(uri, action, params, *, username, password):
        if answers["roles"] is None:
            raise GovernanceError("the governance service did not answer")
        return {"user": username, "roles": answers["roles"]}

    assert not ServerIdentity("https://x", submit=submit).is_committee(who, local)
    answers["roles"] = None
    assert not ServerIdentity("https://x", submit=submit).is_committee(who, local)
    answers["roles"] = ["committee"]
    assert ServerIdentity("https://x", submit=submit).is_committee(who, local)
