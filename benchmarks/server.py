"""Benchmark the team server against the embedded store, in the same run.

Creates a fresh PostgreSQL database on 127.0.0.1:5432, starts ``cin-ml server`` on it
(free loopback port, throw-away data folder) and reports its start time (MLflow answering,
then users/grants provisioned and the governance service up). Trains one small run in each
store (a data scientist's credentials on the server), then times register / review /
promote / load-by-alias (stock ``mlflow.pyfunc.load_model("models:/…@champion")``) on
each. The database and folders are removed afterwards. Timings on a busy machine are not
claims.

Usage: python benchmarks/server.py [--students N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
M = "cin-ecriture-4e"
USERS = {"d.lavoie": "pw-d.lavoie-bench", "a.tremblay": "pw-a.tremblay-bench",
         "ops.bouchard": "pw-ops.bouchard-bench", "cin-governance": "pw-service-bench-0123"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(root: Path, env: dict):
    import psycopg

    db = f"cinml_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{db}"')
    (root / "passwords.toml").write_text("".join(f'"{u}" = "{p}"\n' for u, p in USERS.items()))
    port = _port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cin_ml.cli", "server", "--backend-store-uri",
         f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}", "--data-dir",
         str(root / "data"), "--port", str(port), "--passwords", str(root / "passwords.toml")],
        env=env, stdout=(root / "server.out").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    state = root / "data" / "server.json"
    try:
        while not state.is_file():
            if proc.poll() is not None:
                raise SystemExit((root / "server.out").read_text()[-2000:])
            time.sleep(0.2)
        ready = time.perf_counter() - t0
        out = (root / "server.out").read_text()
        mlflow_s = float(out.split("basic-auth) in ", 1)[1].split(" s", 1)[0])
        yield f"http://127.0.0.1:{port}", ready, mlflow_s, json.loads(state.read_text())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        pids = json.loads(state.read_text())["pids"] if state.is_file() else {}
        with contextlib.suppress(ProcessLookupError, KeyError):
            os.killpg(pids["mlflow"], signal.SIGKILL)
        with psycopg.connect(ADMIN, autocommit=True) as con:
            con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (db,))
            con.execute(f'DROP DATABASE IF EXISTS "{db}"')


def _train(data: Path, uri: str, out: Path) -> str:
    from cin_ml.pipeline import run_audit, run_card, run_explain, run_train

    rid = run_train(data, "ecriture_4e", tracking_uri=uri)["run_id"]
    run_audit(rid, n_boot=20)
    run_explain(rid, out=out / "explain")
    run_card(rid, out=out / "cards", ready=True, tracking_uri=uri)
    return rid


def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def _as(user: str | None) -> None:
    for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        os.environ.pop(k, None)
    if user:
        os.environ.update(MLFLOW_TRACKING_USERNAME=user, MLFLOW_TRACKING_PASSWORD=USERS[user])
    os.environ["CIN_ML_USER"] = user or "d.lavoie"


def _latencies(uri: str, rid: str, server: bool) -> dict[str, float]:
    import mlflow.pyfunc

    from cin_ml.pipeline import run_promote, run_register, run_review

    os.environ["MLFLOW_TRACKING_URI"] = uri
    t = {}
    _as("d.lavoie" if server else None)
    t["register"], reg = _timed(lambda: run_register(rid, author=None if server else "d.lavoie"))
    v = str(reg["version"])
    _as("a.tremblay" if server else None)
    t["review"], _ = _timed(lambda: run_review(M, v, approve=True, reviewer="a.tremblay",
                                               comment="ok"))
    _as("ops.bouchard" if server else None)
    t["promote"], _ = _timed(lambda: run_promote(M, v, operator="ops.bouchard"))
    _as("d.lavoie" if server else None)
    t["load @champion"], _ = _timed(lambda: mlflow.pyfunc.load_model(f"models:/{M}@champion"))
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=3000)
    a = ap.parse_args()
    from cin_ml.pipeline import run_deidentify, run_simulate

    warnings.simplefilter("ignore")
    os.environ.setdefault("CIN_ML_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="cin-server-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(CIN_ML_GOVERNANCE_KEY="benchmark-governance-key-0123456789",
                          CIN_ML_GOVERNANCE_ANCHOR_DIR=str(root / "anchor"))
        run_simulate(root / "source", students=a.students, seed=11)
        run_deidentify(root / "source", root / "deid", demo_key=True)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with _server(root, env) as (url, ready_s, mlflow_s, _):
            print(f"team server ({a.students:,} students): MLflow with basic-auth answering "
                  f"after {mlflow_s:.1f} s, provisioned and governance service up after "
                  f"{ready_s:.1f} s (fresh database: includes MLflow's migrations)")
            embedded = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
            os.environ["CIN_ML_ARTIFACT_ROOT"] = str(root / "mlruns" / "artifacts")
            _as(None)
            os.environ["MLFLOW_TRACKING_URI"] = embedded
            local = _latencies(embedded, _train(root / "deid", embedded, root / "e"), False)
            os.environ.pop("CIN_ML_ARTIFACT_ROOT")
            _as("d.lavoie")
            os.environ["MLFLOW_TRACKING_URI"] = url
            remote = _latencies(url, _train(root / "deid", url, root / "s"), True)
    print(f"{'step':<16}{'embedded (SQLite)':>20}{'server (PostgreSQL)':>22}")
    for step in local:
        print(f"{step:<16}{local[step]:>18.2f} s{remote[step]:>20.2f} s")


if __name__ == "__main__":
    main()
