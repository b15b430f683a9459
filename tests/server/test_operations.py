"""Operations on the team server: five concurrent promotions, a server killed with SIGKILL
mid-promotion (restart, then `governance check` reconciles), backup and restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ._team import PASSWORDS
from .test_roles import M, act

ACTOR = str(Path(__file__).with_name("_actor.py"))


def _approved(server, runs) -> str:
    v = act(server, "d.lavoie", "register", run_id=runs.fresh())["version"]
    act(server, "a.tremblay", "review", model=M, version=v, approve=True, comment="ok")
    return v


def _events(server):
    from cin_ml.registry import history, make_ctx

    os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
    from ._team import user_env

    with user_env("a.tremblay", server.url):
        return history(make_ctx(store=server.url), M)


def test_five_concurrent_promotions_leave_a_consistent_registry(team_server, server_runs):
    v1, v2 = _approved(team_server, server_runs), _approved(team_server, server_runs)
    plan = [(v1, "ops.bouchard"), (v2, "ops.cote"), (v1, "ops.cote"), (v2, "ops.bouchard"),
            (v1, "ops.bouchard")]
    before = len(_events(team_server))
    start = time.time() + 5.0
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    procs = [subprocess.Popen(
        [sys.executable, ACTOR, team_server.url, op, PASSWORDS[op], "promote",
         json.dumps({"model": M, "version": v, "alias": "champion", "why": "concurrent"}),
         str(start)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for v, op in plan]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    events = _events(team_server)
    new = events[before:]
    promotes = [e for e in new if e.type == "promote"]
    assert sorted(e.version for e in promotes) == sorted(v for v, _ in plan)
    # one chain, each promotion saw the previous one's result
    for prev, nxt in zip(promotes, promotes[1:], strict=False):
        assert nxt.details["previous"] == prev.version
    assert [e.type for e in new] == ["promote.started", "promote"] * len(plan)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    from mlflow import MlflowClient

    from ._team import user_env

    with user_env("d.lavoie", team_server.url):
        champ = MlflowClient(tracking_uri=team_server.url).get_model_version_by_alias(
            M, "champion")
    assert str(champ.version) == promotes[-1].version
    assert act(team_server, "ops.cote", "verify")["ok"]


def test_server_killed_mid_promotion_restarts_and_check_reconciles(team_server, server_runs):
    """The process promoting dies right after moving @champion, before the commit event
    (fault injection: ``os._exit`` as SIGKILL would), holding the governance lock; the
    whole server is then killed with SIGKILL, restarted, and `governance check` commits
    the promotion the registry shows."""
    from ._team import SERVICE, as_user

    v = _approved(team_server, server_runs)
    env = {**team_server.env(CIN_ML_FAULT="promote:after-op"), **as_user(SERVICE)}
    crash = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_crash.py")), team_server.url,
         str(team_server.root / "governance.toml"), "ops.bouchard", "promote",
         json.dumps({"model": M, "version": v, "why": "crash"})],
        env=env, capture_output=True, text=True, timeout=300)
    assert crash.returncode == 75, crash.stderr[-2000:]
    assert _events(team_server)[-1].type == "promote.started"
    team_server.kill9()  # MLflow and the governance service: nothing shuts down cleanly
    team_server.start()
    out = (team_server.root / "server.out").read_text()
    assert "governance lock of" in out and "(process gone) broken" in out
    rep = act(team_server, "ops.cote", "check")
    events = _events(team_server)
    done = [e for e in events if e.type == "promote" and e.version == v]
    assert done and done[-1].details.get("recovered") is True
    assert not rep["restored"] and not rep["withdrawn"]
    assert act(team_server, "ops.cote", "verify")["ok"]
