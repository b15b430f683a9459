"""Register → review → promote, refusals with the failed gates, and a stock client."""

from __future__ import annotations

import datetime as dt

import pytest

from cin_ml.errors import GateError, GovernanceError
from cin_ml.registry import describe_version, history, promote, register, review, verify

from ._runs import make_run, tamper_card

M = "cin-ecriture-4e"


def _approved(ctx, run_id=None, **kw):
    rid = run_id or make_run(**kw)
    reg = register(ctx, rid)
    review(ctx, M, reg["version"], reviewer="a.tremblay", approve=True, comment="ok")
    return reg["version"], rid


def test_register_tags_the_version(ctx):
    rid = make_run()
    reg = register(ctx, rid)
    assert (reg["model"], reg["version"]) == (M, "1")
    mv = ctx.client.get_model_version(M, "1")
    assert mv.tags["cin.review.state"] == "pending"
    assert mv.tags["cin.author"] == "ds.lavoie"
    assert mv.tags["cin.card.sha256"] == reg["card_sha256"] and len(reg["card_sha256"]) == 64
    assert "train" in mv.tags["cin.data.digests"]
    assert mv.tags["cin.fairness.worst"] == "inconclusive"
    assert [e.type for e in history(ctx, M)] == ["register.started", "register"]
    with pytest.raises(GovernanceError, match="already registered as cin-ecriture-4e v1"):
        register(ctx, rid)


@pytest.mark.parametrize(("kw", "msg"), [
    ({"with_card": False}, "has no model card"),
    ({"card_ready": False}, r"not complete \(missing: intended_use\)"),
    ({"status": "FAILED"}, "is FAILED, not FINISHED"),
])
def test_register_refuses_without_a_complete_card(ctx, kw, msg):
    rid = make_run(**kw)
    with pytest.raises(GovernanceError, match=msg):
        register(ctx, rid)
    assert ctx.client.search_model_versions(f"name = '{M}'") == []
    assert history(ctx, M)[-1].type == "register.refused"


def test_review_rules(ctx):
    v = register(ctx, make_run())["version"]
    with pytest.raises(GovernanceError, match="not a member of the ethics committee"):
        review(ctx, M, v, reviewer="bob", approve=True, comment="")
    with pytest.raises(GovernanceError, match="is the author of cin-ecriture-4e v1"):
        review(ctx, M, v, reviewer="ds.lavoie", approve=True, comment="")
    with pytest.raises(GovernanceError, match="rejection needs a comment"):
        review(ctx, M, v, reviewer="a.tremblay", approve=False, comment="  ")
    with pytest.raises(GovernanceError, match="must be between today"):
        review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="",
               expires=ctx.today + dt.timedelta(days=400))
    with pytest.raises(GovernanceError, match="match no fail verdict"):
        review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="",
               accept_fairness=["sex:fnr"])
    with pytest.raises(GovernanceError, match="unknown model 'nope'"):
        review(ctx, "nope", 1, reviewer="a.tremblay", approve=True, comment="")
    with pytest.raises(GovernanceError, match="has no version 9"):
        review(ctx, M, 9, reviewer="a.tremblay", approve=True, comment="")
    assert ctx.client.get_model_version(M, v).tags["cin.review.state"] == "pending"
    r = review(ctx, M, v, reviewer="A.Tremblay", approve=True, comment="fine")
    assert r["state"] == "approved" and r["expires"] == "2027-03-02"
    d = describe_version(ctx, M, v)
    assert d["review"]["reviewer"] == "a.tremblay" and d["state"] == "approved"


def test_promote_and_stock_client_loads_champion(ctx):
    import mlflow

    from ._runs import _data, booster

    v, _ = _approved(ctx)
    out = promote(ctx, M, v, operator="ops.bouchard", why="first model")
    assert out["previous"] is None and out["gates"]["ok"]
    assert str(ctx.client.get_model_version_by_alias(M, "champion").version) == "1"
    X, _ = _data()
    model = mlflow.pyfunc.load_model(f"models:/{M}@champion")
    got = model.predict(X.head(20))
    assert got == pytest.approx(booster(0).predict(X.head(20)))
    assert verify(ctx).ok


def _refused(ctx, v, operator="ops.bouchard"):
    before = ctx.client.get_registered_model(M).aliases
    with pytest.raises(GateError) as exc:
        promote(ctx, M, v, operator=operator)
    assert ctx.client.get_registered_model(M).aliases == before
    assert history(ctx, M)[-1].type == "promote.refused"
    return exc.value


def test_promote_refuses_with_every_failed_gate(ctx):
    rid = make_run(metrics={"test_auc": 0.65, "indicator_auc": 0.70,
                            "test_recall_at_threshold": 0.5},
                   verdicts={"sex": {"fnr": "fail"}},
                   features=("lecture_g3_mean", "teacher_experience"),
                   css_ids=("CSS001", "CSS009"))
    v = register(ctx, rid)["version"]
    err = _refused(ctx, v, operator="ds.lavoie")
    assert err.failed_gates == ["approval", "metrics", "fairness", "feature_policy",
                                "consent", "operator"]
    msg = str(err)
    for part in ("no review recorded", "test_auc 0.650 < floor 0.7",
                 "does not beat indicator_auc", "sex:fnr", "teacher_experience",
                 "CSS009/absences: no agreement", "not listed as an operator"):
        assert part in msg


def test_refusals_operator_author_reviewer_expired_rejected(ctx, ctx_on):
    v, _ = _approved(ctx)
    assert _refused(ctx, v, operator="a.tremblay").failed_gates == ["operator"]
    ctx2 = ctx_on(ctx.today + dt.timedelta(days=366))
    assert "approval" in _refused(ctx2, v).failed_gates
    review(ctx, M, v, reviewer="m.gagnon", approve=False, comment="labelling risk")
    err = _refused(ctx, v)
    assert err.failed_gates == ["approval"] and "rejected" in str(err)


def test_tampered_card_blocks_promotion_and_review(ctx):
    v, rid = _approved(ctx)
    tamper_card(rid)
    err = _refused(ctx, v)
    assert err.failed_gates == ["card"] and "tampered card" in str(err)
    with pytest.raises(GovernanceError, match="tampered card"):
        review(ctx, M, v, reviewer="m.gagnon", approve=True, comment="again")


def test_fairness_fail_accepted_in_conditions(ctx):
    rid = make_run(verdicts={"sex": {"fnr": "fail", "fpr": "pass"},
                             "language_group": {"fnr": "fail"}})
    v = register(ctx, rid)["version"]
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
           conditions="monitor", accept_fairness=["sex:fnr"])
    err = _refused(ctx, v)
    assert err.failed_gates == ["fairness"] and "language_group:fnr" in str(err)
    assert "sex:fnr" not in str(err).split("conditions:")[1]
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
           conditions="monitor both", accept_fairness=["sex:fnr", "language_group:*"])
    assert promote(ctx, M, v, operator="ops.cote")["gates"]["ok"]


def test_identity_from_environment_is_recorded(ctx, monkeypatch):
    v, _ = _approved(ctx)
    with pytest.raises(GovernanceError, match="name the operator with --operator or "
                                              r"\$CIN_ML_USER"):
        promote(ctx, M, v, operator=None)
    monkeypatch.setenv("CIN_ML_USER", "ops.cote")
    promote(ctx, M, v, operator=None)
    assert history(ctx, M)[-1].actor == "ops.cote"
