"""Register → review → promote, refusals with the failed gates, and a stock client."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cin_ml.errors import GateError, GovernanceError
from cin_ml.registry import describe_version, history, promote, register, review, verify

from ._runs import AUTHOR, BAD_CSS, BAD_FEATURE, BAD_METRICS, FAIRNESS_FAILS, tamper_card

M = "cin-ecriture-4e"


def _approved(ctx, rid):
    reg = register(ctx, rid, author=AUTHOR)
    review(ctx, M, reg["version"], reviewer="a.tremblay", approve=True, comment="ok")
    return reg["version"], rid


def logged_text(ctx, rid, path):
    """A text artifact of a run, as the pipeline logged it."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return Path(ctx.client.download_artifacts(rid, path, tmp)).read_text(encoding="utf-8")


def test_register_tags_the_version(ctx, runs):
    rid = runs["ready"]
    reg = register(ctx, rid, author=AUTHOR)
    assert (reg["model"], reg["version"]) == (M, "1")
    mv = ctx.client.get_model_version(M, "1")
    assert mv.tags["cin.review.state"] == "pending"
    assert mv.tags["cin.author"] == "ds.lavoie"
    assert mv.tags["cin.card.sha256"] == reg["card_sha256"] and len(reg["card_sha256"]) == 64
    assert "train" in mv.tags["cin.data.digests"]
    assert reg["card_sha256"] == logged_text(ctx, rid, "card/card.sha256").split()[0]
    audit = json.loads(logged_text(ctx, rid, "fairness/audit.json"))
    assert mv.tags["cin.fairness.worst"] == audit["worst_verdict"]
    assert [e.type for e in history(ctx, M)] == ["register.started", "register"]
    with pytest.raises(GovernanceError, match="already registered as cin-ecriture-4e v1"):
        register(ctx, rid, author=AUTHOR)


@pytest.mark.parametrize(("kind", "msg"), [
    ("no_card", "has no model card"),
    ("draft", r"not complete \(missing: intended_use\)"),
    ("failed", "is FAILED, not FINISHED"),
])
def test_register_refuses_without_a_complete_card(ctx, runs, kind, msg):
    with pytest.raises(GovernanceError, match=msg):
        register(ctx, runs[kind], author=AUTHOR)
    assert ctx.client.search_model_versions(f"name = '{M}'") == []
    assert history(ctx, M)[-1].type == "register.refused"


def test_review_rules(ctx, runs):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
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


def test_promote_and_stock_client_loads_champion(ctx, runs):
    import mlflow

    from cin_ml.tracking import load_run_bundle

    v, rid = _approved(ctx, runs["ready"])
    out = promote(ctx, M, v, operator="ops.bouchard", why="first model")
    assert out["previous"] is None and out["gates"]["ok"]
    assert str(ctx.client.get_model_version_by_alias(M, "champion").version) == "1"
    model = mlflow.pyfunc.load_model(f"models:/{M}@champion")
    assert model.metadata.run_id == rid
    bundle = load_run_bundle(rid)
    X = bundle.test_features.head(20)
    got = model.predict(bundle.encode(X[bundle.features]))
    # the stock client returns the calibrated probabilities of the served model (retrained on
    # every labelled cohort: its scores of the test students are logged as served_score)
    scores = bundle.test_predictions.set_index("student_id").loc[X["student_id"],
                                                                 "served_score"]
    assert got == pytest.approx(scores.to_numpy(), abs=1e-6)
    assert verify(ctx).ok


def _refused(ctx, v, operator="ops.bouchard"):
    before = ctx.client.get_registered_model(M).aliases
    with pytest.raises(GateError) as exc:
        promote(ctx, M, v, operator=operator)
    assert ctx.client.get_registered_model(M).aliases == before
    assert history(ctx, M)[-1].type == "promote.refused"
    return exc.value


def test_promote_refuses_with_every_failed_gate(ctx, runs):
    v = register(ctx, runs["bad"], author=AUTHOR)["version"]
    err = _refused(ctx, v, operator="ds.lavoie")
    assert err.failed_gates == ["approval", "metrics", "fairness", "feature_policy",
                                "consent", "operator"]
    msg = str(err)
    floor = ctx.settings.floors.min["test_auc"]
    for part in ("no review recorded", f"test_auc {BAD_METRICS['test_auc']:.3f} < floor {floor}",
                 "does not beat indicator_auc", "sex:fnr", BAD_FEATURE,
                 f"{BAD_CSS}/absences: no agreement", "not listed as an operator"):
        assert part in msg


def test_refusals_operator_author_reviewer_expired_rejected(ctx, ctx_on, runs):
    v, _ = _approved(ctx, runs["ready"])
    assert _refused(ctx, v, operator="a.tremblay").failed_gates == ["operator"]
    ctx2 = ctx_on(ctx.today + dt.timedelta(days=366))
    assert "approval" in _refused(ctx2, v).failed_gates
    review(ctx, M, v, reviewer="m.gagnon", approve=False, comment="labelling risk")
    err = _refused(ctx, v)
    assert err.failed_gates == ["approval"] and "rejected" in str(err)


def test_tampered_card_blocks_promotion_and_review(ctx, runs):
    v, rid = _approved(ctx, runs["ready"])
    tamper_card(rid)
    err = _refused(ctx, v)
    assert err.failed_gates == ["card"] and "tampered card" in str(err)
    with pytest.raises(GovernanceError, match="tampered card"):
        review(ctx, M, v, reviewer="m.gagnon", approve=True, comment="again")


def test_fairness_fail_accepted_in_conditions(ctx, runs):
    assert FAIRNESS_FAILS == {"sex": "fnr", "language_group": "fnr"}
    v = register(ctx, runs["fairness_fails"], author=AUTHOR)["version"]
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
           conditions="monitor", accept_fairness=["sex:fnr"])
    err = _refused(ctx, v)
    assert err.failed_gates == ["fairness"] and "language_group:fnr" in str(err)
    assert "sex:fnr" not in str(err).split("conditions:")[1]
    review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
           conditions="monitor both", accept_fairness=["sex:fnr", "language_group:*"])
    assert promote(ctx, M, v, operator="ops.cote")["gates"]["ok"]


def test_identity_from_environment_is_recorded(ctx, monkeypatch, runs):
    v, _ = _approved(ctx, runs["ready"])
    with pytest.raises(GovernanceError, match="name the operator with --operator or "
                                              r"\$CIN_ML_USER"):
        promote(ctx, M, v, operator=None)
    monkeypatch.setenv("CIN_ML_USER", "ops.cote")
    promote(ctx, M, v, operator=None)
    assert history(ctx, M)[-1].actor == "ops.cote"
