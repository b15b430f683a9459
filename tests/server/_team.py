"""A real team server for the tests: ``cin-ml server`` in a subprocess, on a fresh
PostgreSQL database, with known users, passwords and a governance key."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVICE = "cin-governance"
PEOPLE = {"committee": ["a.tremblay", "m.gagnon"], "operators": ["ops.bouchard", "ops.cote"],
          "data_scientists": ["d.lavoie", "s.nguyen"]}
PASSWORDS = {u: f"pw-{u}-0123" for group in PEOPLE.values() for u in group}
PASSWORDS[SERVICE] = "pw-service-0123456789"
KEY = "server-test-governance-key-0123456789"

POLICY_TOML = f"""
[governance]
purpose = "student_success_prediction"

[people]
committee = {json.dumps(PEOPLE["committee"])}
operators = {json.dumps(PEOPLE["operators"])}
data_scientists = {json.dumps(PEOPLE["data_scientists"])}

[approval]
max_validity_days = 365

[floors]
min = {{ test_auc = 0.7, test_recall_at_threshold = 0.35 }}
beat = {{ test_auc = "indicator_auc" }}
margin = 0.0

[compare]
n_boot = 100
seed = 1
ci_level = 0.95

[lock]
timeout_s = 120
stale_after_s = 300
"""


def postgres_reachable() -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


def create_database() -> str:
    """A fresh database ``cinml_test_<random>``; returns its name."""
    import psycopg

    name = f"cinml_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')


def free_port() -> int:
    """A free loopback port whose successor is free too (MLflow + governance service)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def pg_uri(db: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


@dataclass
class TeamServer:
    """One ``cin-ml server`` process (and its MLflow child) for the session."""

    root: Path
    db: str
    port: int
    proc: subprocess.Popen | None = None
    _t0: float = 0.0
    data: Path | None = None  # the de-identified extract the data scientist trains on
    state: dict = field(default_factory=dict)
    start_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def env(self, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MLFLOW_", "CIN_ML_GOVERNANCE", "CIN_ML_FAULT"))}
        env.update(PYTHONPATH=str(REPO), CIN_ML_GOVERNANCE_KEY=KEY,
                   CIN_ML_GOVERNANCE_ANCHOR_DIR=str(self.root / "anchor"),
                   CIN_ML_THREADS="1", **extra)
        return env

    def start(self, timeout_s: float = 300.0, **extra_env: str) -> None:
        self.launch(**extra_env)
        self.wait(timeout_s)

    def launch(self, **extra_env: str) -> None:
        """Start ``cin-ml server`` without waiting for it (see :meth:`wait`)."""
        (self.root / "governance.toml").write_text(POLICY_TOML, encoding="utf-8")
        (self.root / "passwords.toml").write_text(
            "".join(f'"{u}" = "{p}"\n' for u, p in PASSWORDS.items()), encoding="utf-8")
        (self.data_dir / "server.json").unlink(missing_ok=True)
        log = (self.root / "server.out").open("ab")
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cin_ml.cli", "server", "--backend-store-uri",
             pg_uri(self.db), "--data-dir", str(self.data_dir), "--port", str(self.port),
             "--governance-config", str(self.root / "governance.toml"),
             "--passwords", str(self.root / "passwords.toml")],
            env=self.env(**extra_env), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.root)
        log.close()

    def wait(self, timeout_s: float = 300.0) -> None:
        """Wait until the server is provisioned and its governance service answers."""
        t0 = self._t0
        state_file = self.data_dir / "server.json"
        while not state_file.is_file():
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout_s:
                out = (self.root / "server.out").read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"cin-ml server did not start:\n{out}")
            time.sleep(0.3)
        self.state = json.loads(state_file.read_text())
        self.start_s = time.monotonic() - t0

    def kill9(self) -> None:
        """SIGKILL the server and its MLflow process group (nothing shuts down cleanly)."""
        for pid in (self.state.get("pids", {}).get("mlflow"), self.proc and self.proc.pid):
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=30)
        self._wait_port_free()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill9()
        mlflow_pid = self.state.get("pids", {}).get("mlflow")
        if mlflow_pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(mlflow_pid, signal.SIGKILL)
        self._wait_port_free()

    def _wait_port_free(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", self.port))
                    return
                except OSError:
                    time.sleep(0.3)


def as_user(user: str) -> dict:
    """Environment of ``user`` on the server (MLflow's credential variables)."""
    return {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": PASSWORDS[user]}


@contextlib.contextmanager
def user_env(user: str, url: str):
    """Act as ``user`` on the server at ``url`` in this process for the block."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME",
                                            "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_URI",
                                            "CIN_ML_ARTIFACT_ROOT")}
    os.environ.update(as_user(user), MLFLOW_TRACKING_URI=url)
    os.environ.pop("CIN_ML_ARTIFACT_ROOT", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
