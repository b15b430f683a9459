"""Issue 15's attacks, each made as someone outside cin-ml with write access to the store
(the stock ``MlflowClient`` or SQL on the embedded SQLite file), each refused or detected."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cin_ml.cli import app
from cin_ml.errors import GateError, GovernanceError, PolicyError
from cin_ml.registry import (
    EXPERIMENT,
    check,
    history,
    promote,
    register,
    review,
    served_version,
    verify,
)
from cin_ml.registry._history import canonical, sha256_text

from ._policy import POLICY
from ._runs import AUTHOR, _artifact_dir
from .test_workflow import M, _approved, _refused


def _stock():
    from mlflow import MlflowClient

    return MlflowClient()  # on $MLFLOW_TRACKING_URI, as anyone on the machine would


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _champion(ctx):
    aliases = ctx.client.get_registered_model(M).aliases
    return None if "champion" not in aliases else str(aliases["champion"])


# ------------------------------------------------------------- 1. evidence bound to the hash

def test_logged_metric_cannot_lift_a_run_over_its_floors(ctx, runs, settings):
    from cin_ml.config import settings_from_dict
    from cin_ml.registry import GovernanceSettings, make_ctx

    rid = runs["ready"]
    auc = json.loads((_artifact_dir(ctx.client, rid) / "evaluation/metrics.json")
                     .read_text(encoding="utf-8"))["test_auc"]
    floor = round(auc + 0.02, 2)  # a floor this run fails
    strict = settings_from_dict(GovernanceSettings, {
        **POLICY, "floors": {**POLICY["floors"], "min": {"test_auc": floor}}}, "strict")
    sctx = make_ctx(strict, ctx.consent, today=ctx.today)
    v, _ = _approved(sctx, rid)
    for name, value in (("test_auc", 0.99), ("test_recall_at_threshold", 0.9),
                        ("indicator_auc", 0.5)):
        _stock().log_metric(rid, name, value)  # the attack: the run now "passes"
    assert _stock().get_run(rid).data.metrics["test_auc"] == 0.99
    with pytest.raises(GateError) as exc:
        promote(sctx, M, v, operator="ops.bouchard")
    assert exc.value.failed_gates == ["metrics"]
    assert f"test_auc {auc:.3f} < floor {floor}" in str(exc.value)
    assert _champion(ctx) is None


@pytest.mark.parametrize("name", ["card.fr.html", "card.en.html", "card.fr.md", "card.en.md"])
def test_edited_card_rendering_after_approval_blocks_promotion(ctx, runs, name):
    v, rid = _approved(ctx, runs["ready"])
    f = _artifact_dir(ctx.client, rid) / "card" / name
    f.write_text(f.read_text(encoding="utf-8").replace("LightGBM", "Approved LightGBM", 1),
                 encoding="utf-8")
    err = _refused(ctx, v)
    assert err.failed_gates == ["card"]
    assert f"card/{name} changed since registration" in str(err)


def test_edited_evidence_artifact_after_approval_blocks_promotion(ctx, runs):
    v, rid = _approved(ctx, runs["ready"])
    f = _artifact_dir(ctx.client, rid) / "fairness" / "audit.json"
    f.write_text(f.read_text(encoding="utf-8") + " ", encoding="utf-8")
    err = _refused(ctx, v)
    assert "card" in err.failed_gates
    assert "fairness/audit.json changed since registration" in str(err)


# ------------------------------------------------ 2. decisions in the history, tags a cache

def _forge_approval(client, v):
    rec = {"state": "approved", "reviewer": "m.gagnon", "at": "2026-03-02T10:00:00+00:00",
           "comment": "ok", "conditions": "", "accepted_fairness": ["*:*"],
           "expires": "2027-03-01", "card_sha256": "0" * 64}
    client.set_model_version_tag(M, v, "cin.review", canonical(rec))
    client.set_model_version_tag(M, v, "cin.review.state", "approved")


def test_forged_review_tags_on_a_rejected_version_are_refused(ctx, runs):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    review(ctx, M, v, reviewer="m.gagnon", approve=False, comment="labelling risk")
    _forge_approval(_stock(), v)
    err = _refused(ctx, v)
    assert err.failed_gates[:2] == ["history", "approval"]
    msg = str(err)
    assert "version tag cin.review.state='approved' disagrees with the history ('rejected'" \
        in msg
    assert "review state is rejected (by m.gagnon" in msg
    # verify and the CLI name it too
    rep = verify(ctx)
    assert not rep.ok and any("cin.review.state" in p for p in rep.problems)
    r = _cli("history", "--verify")
    assert r.exit_code == 1 and "cin.review.state" in r.output and "Traceback" not in r.output
    # the check restores the cache from the history, records it, and exits non-zero
    r = _cli("governance", "check")
    assert r.exit_code == 2 and "tags restored" in r.output, r.output
    assert ctx.client.get_model_version(M, v).tags["cin.review.state"] == "rejected"
    assert history(ctx, M)[-1].type == "restore.tags"
    assert verify(ctx).ok
    assert _refused(ctx, v).failed_gates == ["approval"]


def test_forged_review_on_a_pending_version_is_refused(ctx, runs):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    _forge_approval(_stock(), v)
    err = _refused(ctx, v)
    assert err.failed_gates[:2] == ["history", "approval"]
    assert "no review recorded" in str(err)
    with pytest.raises(GovernanceError, match="cin.review.state"):
        review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok")


def test_version_created_outside_cin_ml_is_never_promoted(ctx, runs):
    v, rid = _approved(ctx, runs["ready"])
    c = _stock()
    mv = c.create_model_version(M, ctx.client.get_model_version(M, v).source, run_id=rid,
                                tags=dict(ctx.client.get_model_version(M, v).tags))
    err = _refused(ctx, str(mv.version))
    assert err.failed_gates[0] == "history"  # and nothing it claims is believed
    assert "never registered through cin-ml" in str(err)


# ---------------------------------------- 3. the history resists write access to the store

def _history_runs(client):
    exp = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    return exp.experiment_id, {int(r.data.tags["cin.event.seq"]): r for r in runs}


@pytest.fixture()
def promoted(ctx, runs):
    v, _ = _approved(ctx, runs["ready"])
    promote(ctx, M, v, operator="ops.bouchard", why="go")
    assert verify(ctx).ok and verify(ctx).n_events == 6
    return v


def test_truncation_with_a_moved_head_is_detected_and_refuses_actions(ctx, runs, promoted):
    exp_id, by_seq = _history_runs(ctx.client)
    db = ctx.store.sqlite_path
    con = sqlite3.connect(db)  # hard delete of the last two events, straight in SQLite
    for seq in (5, 6):
        rid = by_seq[seq].info.run_id
        for table in ("tags", "metrics", "params", "latest_metrics"):
            con.execute(f"DELETE FROM {table} WHERE run_uuid = ?", (rid,))
        con.execute("DELETE FROM runs WHERE run_uuid = ?", (rid,))
    con.commit()
    con.close()
    head4 = by_seq[4].data.tags["cin.event.hash"]
    _stock().set_experiment_tag(exp_id, "cin.history.head", f"4:{head4}")  # move the head
    rep = verify(ctx)
    assert rep.problems == ("event(s) #5–#6 removed (the head anchor is at #6)",)
    r = _cli("history", "--verify")
    assert r.exit_code == 1 and "#5–#6 removed" in r.output
    with pytest.raises(GovernanceError, match="failed verification"):
        register(ctx, runs["reseeded"], author=AUTHOR)
    with pytest.raises(GovernanceError, match="failed verification"):
        check(ctx)


def test_consistent_rewrite_from_one_event_is_detected(ctx, promoted):
    """The attacker rewrites #4 (the approval) and re-chains #5–#6 with plain SHA-256, as the
    old unkeyed chain allowed, and moves the in-store head."""
    exp_id, by_seq = _history_runs(ctx.client)
    c = _stock()
    prev = by_seq[3].data.tags["cin.event.hash"]
    for seq in (4, 5, 6):
        run = by_seq[seq]
        body = json.loads(run.data.tags["cin.event.json"])
        if seq == 4:
            body["why"] = "rubber stamp"
        body["prev_hash"] = prev
        text = canonical(body)
        prev = sha256_text(text)
        c.set_tag(run.info.run_id, "cin.event.json", text)
        c.set_tag(run.info.run_id, "cin.event.hash", prev)
    c.set_experiment_tag(exp_id, "cin.history.head", f"6:{prev}")
    rep = verify(ctx)
    assert not rep.ok
    for seq in (4, 5, 6):
        assert any(f"event #{seq} " in p and "MAC" in p for p in rep.problems), rep.problems
    assert any("does not match the head anchor" in p for p in rep.problems)


def test_events_need_the_governance_key(ctx, runs, promoted, monkeypatch, tmp_path):
    from cin_ml.registry import make_ctx

    monkeypatch.delenv("CIN_ML_GOVERNANCE_KEY")
    bare = make_ctx(ctx.settings, ctx.consent, today=ctx.today)
    with pytest.raises(GovernanceError, match="no governance key"):
        review(bare, M, promoted, reviewer="m.gagnon", approve=True, comment="again")
    r = _cli("history", "--verify")
    assert r.exit_code == 1 and "no governance key" in r.output and "Traceback" not in r.output
    # another key (anchor kept): every event is reported as authenticated by another key
    monkeypatch.setenv("CIN_ML_GOVERNANCE_KEY", "another-key-of-sixteen-bytes-or-more")
    rep = verify(make_ctx(ctx.settings, ctx.consent, today=ctx.today))
    assert any("authenticated with another governance key" in p for p in rep.problems)


def test_key_file_and_anchor_inside_the_store_are_refused(ctx, monkeypatch, tmp_path):
    from cin_ml.registry._key import resolve_governance_key

    inside = ctx.store.sqlite_path.parent / "governance.key"
    inside.write_text("k" * 32)
    monkeypatch.setenv("CIN_ML_GOVERNANCE_KEY_FILE", str(inside))
    with pytest.raises(GovernanceError, match="lies inside the store's folder"):
        resolve_governance_key(ctx.store)
    outside = tmp_path / "keys" / "governance.key"
    outside.parent.mkdir()
    outside.write_text("k" * 32)
    monkeypatch.setenv("CIN_ML_GOVERNANCE_KEY_FILE", str(outside))
    monkeypatch.setenv("CIN_ML_GOVERNANCE_ANCHOR_DIR", str(ctx.store.artifact_root))
    with pytest.raises(GovernanceError, match="anchor folder .* lies inside the store"):
        resolve_governance_key(ctx.store)
    monkeypatch.delenv("CIN_ML_GOVERNANCE_ANCHOR_DIR")
    key = resolve_governance_key(ctx.store)
    assert key.anchor.path.parent == outside.parent and not key.demo
    assert "k" * 32 not in repr(key)


# ------------------------------------------------------------- 4. governance check reconciles

def test_check_restores_an_alias_moved_or_deleted_outside_cin_ml(ctx, runs, promoted):
    v2 = register(ctx, runs["reseeded"], author=AUTHOR)["version"]  # pending, never promoted
    c = _stock()
    c.set_registered_model_alias(M, "champion", v2)
    with pytest.raises(GovernanceError, match="never promoted"):
        served_version(ctx, M, "champion")
    assert any("never promoted" in p for p in verify(ctx).problems)
    rep = check(ctx)
    assert rep.repaired and rep.restored[0][:4] == (M, "champion", v2, promoted)
    assert _champion(ctx) == promoted
    assert history(ctx, M)[-1].type == "restore"
    c.delete_registered_model_alias(M, "champion")
    r = _cli("governance", "check")
    assert r.exit_code == 2 and "restored" in r.output and "removed outside cin-ml" in r.output
    assert _champion(ctx) == promoted
    assert verify(ctx).ok
    assert not check(ctx).changed  # idempotent


def _running_run(client, exp_name: str, start_ms: int) -> str:
    exp = client.get_experiment_by_name(exp_name)
    return client.create_run(exp.experiment_id, start_time=start_ms,
                             tags={"cin.kind": "train", "cin.task": "ecriture_4e"}).info.run_id


def test_check_marks_training_runs_left_running_failed(ctx, runs):
    c = _stock()
    old = _running_run(c, "cin-ecriture-4e", int((time.time() - 3 * 86400) * 1000))
    fresh = _running_run(c, "cin-ecriture-4e", int(time.time() * 1000))
    rep = check(ctx)
    assert rep.stale_runs == (old,) and not rep.repaired
    assert c.get_run(old).info.status == "FAILED"
    assert "killed" in c.get_run(old).data.tags["cin.failed_reason"]
    assert c.get_run(fresh).info.status == "RUNNING"
    assert history(ctx)[-1].type == "run.failed"


def test_check_fails_a_training_run_killed_with_sigkill(ctx, runs, settings):
    from cin_ml.registry import make_ctx

    code = ("import os, signal, mlflow\n"
            "mlflow.set_experiment('cin-ecriture-4e')\n"
            "r = mlflow.start_run(tags={'cin.kind': 'train'})\n"
            "print(r.info.run_id, flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=os.environ.copy(), timeout=120)
    assert p.returncode == -signal.SIGKILL
    rid = p.stdout.split()[0]
    assert _stock().get_run(rid).info.status == "RUNNING"
    quick = settings.model_copy(update={"check": settings.check.model_copy(
        update={"stale_run_hours": 1e-6})})
    rep = check(make_ctx(quick, ctx.consent, today=ctx.today))
    assert rid in rep.stale_runs
    assert _stock().get_run(rid).info.status == "FAILED"


# ------------------------------------------------------------ 5. predict serves only cin-ml's

def _predict(model, tmp_path):
    from cin_ml.pipeline import run_predict

    return run_predict(model, tmp_path / "no-data", "school", "S1", out=tmp_path / "out")


def test_predict_refuses_a_foreign_model_and_a_moved_alias(ctx, runs, promoted, tmp_path):
    c = _stock()
    src = ctx.client.get_model_version(M, promoted)
    c.create_registered_model("cin-foreign")
    mv = c.create_model_version("cin-foreign", src.source, run_id=src.run_id)
    c.set_registered_model_alias("cin-foreign", "champion", mv.version)
    with pytest.raises(PolicyError, match="not a cin-ml model"):
        _predict("cin-foreign@champion", tmp_path)
    # a foreign model that copies the managed tag has no history: nothing to serve
    c.set_registered_model_tag("cin-foreign", "cin.managed", "true")
    with pytest.raises(PolicyError, match="history has no @champion"):
        _predict("cin-foreign@champion", tmp_path)
    v2 = register(ctx, runs["reseeded"], author=AUTHOR)["version"]
    c.set_registered_model_alias(M, "champion", v2)
    with pytest.raises(PolicyError, match="never promoted"):
        _predict(f"{M}@champion", tmp_path)
    c.set_registered_model_alias(M, "champion", promoted)
    c.set_model_version_tag(M, promoted, "cin.consent.state", "valid")
    with pytest.raises(PolicyError, match="cin.consent.state"):
        _predict(f"{M}@champion", tmp_path)
    c.delete_model_version_tag(M, promoted, "cin.consent.state")
    assert served_version(ctx, M, "champion")["version"] == promoted


# ------------------------------------------------------------------------------ 6. identities

def test_homoglyph_and_variant_identities(ctx, runs):
    cyrillic = "\u0430.tremblay"  # Cyrillic а
    with pytest.raises(GovernanceError, match=r"non-ASCII or unsafe character\(s\) U\+0430"):
        register(ctx, runs["ready"], author=cyrillic)
    r = _cli("register", "--run", runs["ready"], "--author", cyrillic)
    assert r.exit_code == 1 and "U+0430" in r.output and "Traceback" not in r.output
    # a fullwidth Ａ is the same person once normalized (NFKC, case-folded)
    v = register(ctx, runs["ready"], author="\uff21.Tremblay")["version"]
    assert ctx.client.get_model_version(M, v).tags["cin.author"] == "a.tremblay"
    for who in ("a.tremblay", " A.TREMBLAY ", "\uff41.tremblay"):
        with pytest.raises(GovernanceError, match="is the author"):
            review(ctx, M, v, reviewer=who, approve=True, comment="ok")
    with pytest.raises(GovernanceError, match="non-ASCII"):
        review(ctx, M, v, reviewer="m.gagn\u043en", approve=True, comment="ok")  # Cyrillic о


def test_policy_lists_are_normalized_and_refuse_homoglyphs(settings):
    from cin_ml.config import settings_from_dict
    from cin_ml.errors import ConfigError
    from cin_ml.registry import GovernanceSettings

    s = settings_from_dict(GovernanceSettings, {**POLICY, "people": {
        "committee": [" A.Tremblay "], "operators": ["OPS.cote"]}}, "p")
    assert s.people.committee == ("a.tremblay",) and s.people.operators == ("ops.cote",)
    with pytest.raises(ConfigError, match="non-ASCII"):
        settings_from_dict(GovernanceSettings, {**POLICY, "people": {
            "committee": ["\u0430.tremblay"], "operators": ["ops.cote"]}}, "p")


def test_history_dates_are_recorded(ctx, promoted):
    assert all(dt.datetime.fromisoformat(e.at) for e in history(ctx, M))
    assert Path(ctx.key.anchor.path).is_file()


def test_card_rendering_edited_before_registration_is_refused(ctx, runs):
    rid = runs["ready"]
    f = _artifact_dir(ctx.client, rid) / "card" / "card.en.html"
    f.write_text(f.read_text(encoding="utf-8").replace("LightGBM", "Approved LightGBM", 1),
                 encoding="utf-8")
    with pytest.raises(GovernanceError, match=r"card/card.en.html is not the rendering of "
                                              r"card/card.json \(edited\)"):
        register(ctx, rid, author=AUTHOR)
    assert history(ctx, M)[-1].type == "register.refused"
