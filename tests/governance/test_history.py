"""The hash-chained history detects edited and removed events; rollback, check, compare."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cin_ml.errors import GateError, GovernanceError
from cin_ml.registry import (
    EXPERIMENT,
    check,
    compare,
    history,
    promote,
    register,
    review,
    rollback,
    verify,
)

from ._runs import AUTHOR
from .test_workflow import M, _approved, logged_text


def _runs_by_seq(ctx):
    exp = ctx.client.get_experiment_by_name(EXPERIMENT)
    runs = ctx.client.search_runs([exp.experiment_id], max_results=1000)
    return exp.experiment_id, {int(r.data.tags["cin.event.seq"]): r for r in runs}


@pytest.fixture()
def chain(ctx, runs):
    v, _ = _approved(ctx, runs["ready"])
    promote(ctx, M, v, operator="ops.bouchard", why="go")
    assert verify(ctx).ok and verify(ctx).n_events == 6
    return ctx


def test_edit_of_an_event_is_detected(chain):
    _, runs = _runs_by_seq(chain)
    run = runs[3]  # review.started
    body = json.loads(run.data.tags["cin.event.json"])
    body["actor"] = "m.gagnon"
    chain.client.set_tag(run.info.run_id, "cin.event.json", json.dumps(body))
    rep = verify(chain)
    assert not rep.ok
    assert any("event #3" in p and "edited" in p for p in rep.problems)
    assert any("cin.event.actor was changed" in p for p in rep.problems)


def test_edit_with_recomputed_hash_breaks_the_next_link(chain):
    from cin_ml.registry._history import canonical, sha256_text

    _, runs = _runs_by_seq(chain)
    run = runs[4]
    body = json.loads(run.data.tags["cin.event.json"])
    body["why"] = "rubber stamp"
    text = canonical(body)
    chain.client.set_tag(run.info.run_id, "cin.event.json", text)
    chain.client.set_tag(run.info.run_id, "cin.event.hash", sha256_text(text))
    rep = verify(chain)
    # a plain SHA-256 no longer passes for the event's MAC (the key is not in the store),
    # and the next event's link still names the edit
    assert rep.problems == ("event #4 (review): content does not match its MAC (edited or "
                            "forged without the governance key)",
                            "event #5 (promote.started) does not link to event #4 "
                            "(an earlier event was edited or replaced)")


def test_removed_events_are_detected(chain):
    exp_id, runs = _runs_by_seq(chain)
    chain.client.delete_run(runs[2].info.run_id)  # soft delete
    assert any("event #2 (register) was deleted" in p for p in verify(chain).problems)
    chain.client.restore_run(runs[2].info.run_id)
    assert verify(chain).ok
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(chain.store.tracking_uri, chain.store.artifact_root)
    chain.client.delete_run(runs[6].info.run_id)
    store._hard_delete_run(runs[6].info.run_id)  # the last event, gone for good
    assert verify(chain).problems == ("event #6 removed (the head anchor is at #6)",)


def test_history_filters_by_model_and_records_who_when_why(chain):
    events = history(chain, M)
    assert [e.type for e in events] == ["register.started", "register", "review.started",
                                        "review", "promote.started", "promote"]
    p = events[-1]
    assert (p.actor, p.why, p.version, p.details["alias"]) == ("ops.bouchard", "go", "1",
                                                                "champion")
    assert p.prev_hash == events[-2].hash and dt.datetime.fromisoformat(p.at)
    assert history(chain, "cin-decrochage") == []


def test_rollback_to_previous_valid_champion(ctx, runs):
    v1, _ = _approved(ctx, runs["ready"])
    promote(ctx, M, v1, operator="ops.bouchard")
    with pytest.raises(GateError, match="no earlier @champion"):
        rollback(ctx, M, operator="ops.bouchard", why="bad")
    v2, _ = _approved(ctx, runs["reseeded"])
    promote(ctx, M, v2, operator="ops.bouchard")
    with pytest.raises(GovernanceError, match="give the reason"):
        rollback(ctx, M, operator="ops.bouchard", why=" ")
    out = rollback(ctx, M, operator="ops.cote", why="drift in v2")
    assert (out["version"], out["previous"]) == (v1, v2)
    assert str(ctx.client.get_model_version_by_alias(M, "champion").version) == v1
    assert history(ctx, M)[-1].type == "rollback"


def test_check_expires_and_restores_last_valid_champion(ctx, ctx_on, runs):
    v1, _ = _approved(ctx, runs["ready"])
    promote(ctx, M, v1, operator="ops.bouchard")
    v2 = register(ctx, runs["reseeded"], author=AUTHOR)["version"]
    review(ctx, M, v2, reviewer="a.tremblay", approve=True, comment="short",
           expires=ctx.today + dt.timedelta(days=30))
    promote(ctx, M, v2, operator="ops.bouchard")
    assert not check(ctx).changed
    later = ctx_on(ctx.today + dt.timedelta(days=31))
    rep = later and check(later)
    assert rep.expired == ((M, v2),)
    assert rep.withdrawn == ((M, "champion", v2, v1),)
    assert str(ctx.client.get_model_version_by_alias(M, "champion").version) == v1
    assert ctx.client.get_model_version(M, v2).tags["cin.review.state"] == "expired"
    assert not check(later).changed  # idempotent
    types = [e.type for e in history(ctx, M)]
    assert types[-4:] == ["expire.started", "expire", "withdraw.started", "withdraw"]
    assert verify(ctx).ok


def test_check_flags_expired_consent_and_withdraws(ctx, settings, runs):
    from cin_ml.consent import ConsentRegistry
    from cin_ml.registry import make_ctx

    # the agreements the run relied on at training (consent/scope.json) are the only ones:
    # approve and promote a month before the first of them ends, check the day after
    rid = runs["ready"]
    scope = json.loads(logged_text(ctx, rid, "consent/scope.json"))
    first = min(scope["agreement_records"], key=lambda a: a["retention_end"])
    end = dt.date.fromisoformat(first["retention_end"])
    before = make_ctx(settings, ConsentRegistry(), today=end - dt.timedelta(days=30))
    v, _ = _approved(before, rid)
    promote(before, M, v, operator="ops.bouchard")
    rep = check(make_ctx(settings, ConsentRegistry(), today=end + dt.timedelta(days=1)))
    assert rep.consent_flagged[0][:2] == (M, v)
    assert (f"{first['css_id']}/{first['dataset']}: agreement {first['id']} expired on "
            f"{end.isoformat()}") in rep.consent_flagged[0][2]
    assert rep.withdrawn == ((M, "champion", v, None),)
    assert "champion" not in ctx.client.get_registered_model(M).aliases
    assert ctx.client.get_model_version(M, v).tags["cin.consent.state"] == "invalid"


def test_challenger_and_compare(ctx, runs):
    v1, _ = _approved(ctx, runs["ready"])
    promote(ctx, M, v1, operator="ops.bouchard")
    with pytest.raises(GovernanceError, match="no @challenger"):
        compare(ctx, M)
    # challenger needs no approval
    v2 = register(ctx, runs["reseeded"], author=AUTHOR)["version"]
    promote(ctx, M, v2, alias="challenger", operator="ops.cote")
    c = compare(ctx, M)
    run = ctx.client.get_run(runs["ready"]).data
    cohort = run.params["test_cohort"]
    assert (c.champion, c.challenger, c.n, c.test_cohort) == (v1, v2, int(run.metrics["n_test"]),
                                                              cohort)
    a, b = c.metrics["champion"]["auc"], c.metrics["challenger"]["auc"]
    assert a == pytest.approx(run.metrics["test_auc"], abs=1e-3)
    assert c.auc_diff["estimate"] == pytest.approx(b - a, abs=1e-6)
    assert c.auc_diff["low"] <= c.auc_diff["estimate"] <= c.auc_diff["high"]
    v3 = register(ctx, runs["later"], author=AUTHOR)["version"]
    later = ctx.client.get_run(runs["later"]).data.params["test_cohort"]
    assert later != cohort
    promote(ctx, M, v3, alias="challenger", operator="ops.cote")
    with pytest.raises(GovernanceError, match=f"tested on cohort {cohort} and challenger v3 "
                                              f"on {later}"):
        compare(ctx, M)
