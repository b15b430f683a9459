"""Crash safety (fault injection in a real process) and two concurrent promotions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from cin_ml.registry import history, recover, verify

from ._runs import AUTHOR
from .test_workflow import M, _approved

ACTOR = str(Path(__file__).with_name("_actor.py"))


def _act(*args, fault: str | None = None, wait: bool = True):
    env = {**os.environ}
    env.pop("CIN_ML_FAULT", None)
    if fault:
        env["CIN_ML_FAULT"] = fault
    p = subprocess.Popen([sys.executable, ACTOR, *map(str, args)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate(timeout=120)
    return p.returncode, err


def _champion(ctx):
    mv = ctx.client.get_registered_model(M).aliases
    return None if "champion" not in mv else str(mv["champion"])


def test_crash_after_intent_aborts_and_changes_nothing(ctx, runs):
    v, _ = _approved(ctx, runs["ready"])
    code, _ = _act("promote", M, v, "ops.bouchard", fault="promote:after-intent")
    assert code == 75
    assert _champion(ctx) is None
    assert history(ctx, M)[-1].type == "promote.started"
    ev = recover(ctx)
    assert ev.type == "promote.aborted" and ev.details["recovered"]
    assert _champion(ctx) is None
    assert verify(ctx).ok


def test_crash_after_alias_move_commits_on_recovery(ctx, runs):
    v, _ = _approved(ctx, runs["ready"])
    code, _ = _act("promote", M, v, "ops.bouchard", fault="promote:before-commit")
    assert code == 75
    assert _champion(ctx) == v  # the alias moved in one call: the commit point
    assert history(ctx, M)[-1].type == "promote.started"
    ev = recover(ctx)
    assert (ev.type, ev.version, ev.details["recovered"]) == ("promote", v, True)
    assert verify(ctx).ok


def test_crash_mid_review_rolls_forward(ctx, runs):
    from cin_ml.registry import register

    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    code, _ = _act("review", M, v, "a.tremblay", fault="review:after-op")
    assert code == 75
    tags = ctx.client.get_model_version(M, v).tags
    assert '"approved"' in tags["cin.review"] and tags["cin.review.state"] == "pending"
    ev = recover(ctx)  # the next action would do the same
    assert ev.type == "review" and ev.details["recovered"]
    assert ctx.client.get_model_version(M, v).tags["cin.review.state"] == "approved"


def test_two_concurrent_promotions_leave_a_consistent_registry(ctx, runs):
    v1, _ = _approved(ctx, runs["ready"])
    v2, _ = _approved(ctx, runs["reseeded"])
    start = time.time() + 6.0
    procs = [_act("promote", M, v, op, start, wait=False)
             for v, op in ((v1, "ops.bouchard"), (v2, "ops.cote"))]
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    events = history(ctx, M)
    promotes = [e for e in events if e.type == "promote"]
    assert sorted(e.version for e in promotes) == sorted([v1, v2])
    assert _champion(ctx) == promotes[-1].version
    assert promotes[-1].details["previous"] == promotes[0].version
    assert verify(ctx).ok
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
