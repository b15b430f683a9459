"""``cin-ml server``: MLflow (PostgreSQL backend, served artifacts, basic-auth) and the
governance service, provisioned from ``governance.toml``, until interrupted.

Layout of the data folder (``[server] data_dir``)::

    artifacts/        served artifacts (``--artifacts-destination``)
    basic_auth.ini    MLflow's auth config (users live in the same PostgreSQL database)
    passwords.toml    user passwords (mode 0600; missing users get generated ones)
    flask_secret      MLflow's CSRF secret (mode 0600)
    mlflow.log        the MLflow server's log
    server.json       URLs and process ids of the running server (removed on exit)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cin_ml.errors import GovernanceError
from cin_ml.server._settings import ServerSettings

STATE_FILE = "server.json"
PASSWORDS_FILE = "passwords.toml"


@dataclass(frozen=True)
class ServerPlan:
    """Everything one ``cin-ml server`` run uses (settings with command-line overrides)."""

    backend_store_uri: str
    data_dir: Path
    host: str
    port: int
    governance_port: int
    workers: int
    default_permission: str
    service_user: str
    passwords_file: Path
    governance_config: Path | None = None
    consent_config: Path | None = None
    demo_key: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"


def make_plan(settings: ServerSettings, *, backend_store_uri: str | None = None,
              data_dir: Path | str | None = None, port: int | None = None,
              governance_port: int | None = None, host: str | None = None,
              passwords_file: Path | str | None = None,
              governance_config: Path | str | None = None,
              consent_config: Path | str | None = None, demo_key: bool = False) -> ServerPlan:
    """The run's plan: ``settings`` (``configs/server.toml``) with the given overrides."""
    s = settings.server
    uri = backend_store_uri or s.backend_store_uri
    if not uri.startswith(("postgresql://", "postgresql+psycopg://")):
        raise GovernanceError(f"--backend-store-uri must be a PostgreSQL URI "
                              f"(postgresql+psycopg://user@host:port/db); got {uri!r}")
    folder = Path(data_dir or s.data_dir).expanduser().resolve()
    p = port or s.port
    return ServerPlan(
        backend_store_uri=uri.replace("postgresql://", "postgresql+psycopg://", 1),
        data_dir=folder, host=host or s.host, port=p,
        governance_port=governance_port or (p + 1 if port else s.governance_port),
        workers=s.workers, default_permission=s.default_permission,
        service_user=settings.service.user,
        passwords_file=Path(passwords_file).resolve() if passwords_file
        else folder / PASSWORDS_FILE,
        governance_config=Path(governance_config) if governance_config else None,
        consent_config=Path(consent_config) if consent_config else None, demo_key=demo_key)


def mlflow_command(plan: ServerPlan) -> list[str]:
    """The ``mlflow server`` command line of the plan."""
    return [sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", plan.backend_store_uri,
            "--artifacts-destination", str(plan.artifacts_dir), "--serve-artifacts",
            "--host", plan.host, "--port", str(plan.port), "--workers", str(plan.workers),
            "--app-name", "basic-auth"]


def _auth_ini(plan: ServerPlan) -> Path:
    path = plan.data_dir / "basic_auth.ini"
    path.write_text("[mlflow]\n"
                    f"default_permission = {plan.default_permission}\n"
                    f"database_uri = {plan.backend_store_uri}\n"
                    f"admin_username = {plan.service_user}\n"
                    "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
                    "auth_cache_ttl_seconds = 30\n",
                    encoding="utf-8")
    return path


def _flask_secret(plan: ServerPlan) -> str:
    """MLflow's CSRF secret (``MLFLOW_FLASK_SERVER_SECRET_KEY``), kept across restarts in
    the data folder (mode 0600)."""
    import secrets

    path = plan.data_dir / "flask_secret"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


@contextlib.contextmanager
def running_server(plan: ServerPlan, say: Callable[[str], None] = lambda line: None,
                   timeout_s: float = 180.0) -> Iterator[dict]:
    """Start MLflow and the governance service, provision them, yield the state
    (``url``, ``governance_url``, pids); stop both on the way out."""
    from werkzeug.serving import make_server

    from cin_ml.registry import (
        GOVERNANCE_ENDPOINT_TAG,
        load_governance_settings,
        make_ctx,
    )
    from cin_ml.server._provision import ensure_passwords, provision
    from cin_ml.server._service import GovernanceService, clear_lock, wsgi_app
    from cin_ml.tracking import port_is_free, running_mlflow

    settings = load_governance_settings(plan.governance_config)
    people = settings.people
    users = sorted({*people.committee, *people.operators, *people.data_scientists,
                    plan.service_user})
    passwords, new = ensure_passwords(plan.passwords_file, users)
    for u in new:
        say(f"password of {u}: generated, in {plan.passwords_file}")
    plan.artifacts_dir.mkdir(parents=True, exist_ok=True)
    if not port_is_free(plan.governance_port):
        raise GovernanceError(f"port {plan.governance_port} (governance service) is in use: "
                              f"pass --governance-port")
    env = {**os.environ, "MLFLOW_AUTH_CONFIG_PATH": str(_auth_ini(plan)),
           "MLFLOW_AUTH_ADMIN_PASSWORD": passwords[plan.service_user],
           "MLFLOW_FLASK_SERVER_SECRET_KEY": _flask_secret(plan)}
    # MLflow's GenAI job runner (a pool of huey consumers) serves nothing cin-ml uses
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_URI"):
        env.pop(k, None)
    # this process acts as the service identity from here on
    os.environ["MLFLOW_TRACKING_USERNAME"] = plan.service_user
    os.environ["MLFLOW_TRACKING_PASSWORD"] = passwords[plan.service_user]
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    started = time.monotonic()
    pids: dict[str, int] = {"cin_ml": os.getpid()}
    with running_mlflow(mlflow_command(plan), plan.port, env=env, timeout_s=timeout_s,
                        name="the MLflow server", log=plan.data_dir / "mlflow.log",
                        on_start=lambda proc: pids.update(mlflow=proc.pid)) as url:
        say(f"MLflow server on {url} (PostgreSQL {_safe_uri(plan.backend_store_uri)}, "
            f"artifacts in {plan.artifacts_dir}, basic-auth) in "
            f"{time.monotonic() - started:.1f} s")
        ctx = make_ctx(settings, store=url, demo_key=plan.demo_key)
        ctx.key  # noqa: B018 - refuse to start without a governance key
        provision(url, people, plan.service_user, passwords, say)
        broken = clear_lock(url, only_dead=True)
        if broken:
            say(f"governance lock of {broken} (process gone) broken")
        svc = GovernanceService(url, plan.service_user, plan.governance_config,
                                plan.consent_config, plan.demo_key)
        httpd = make_server(plan.host, plan.governance_port, wsgi_app(svc), threaded=True)
        gov_url = f"http://127.0.0.1:{plan.governance_port}"
        exp_id = ctx.history_experiment()
        ctx.client.set_experiment_tag(exp_id, GOVERNANCE_ENDPOINT_TAG, gov_url)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        say(f"governance service on {gov_url} (acts as {plan.service_user})")
        state = {"url": url, "governance_url": gov_url, "pids": pids,
                 "started_s": round(time.monotonic() - started, 2)}
        state_file = plan.data_dir / STATE_FILE
        state_file.write_text(json.dumps(state), encoding="utf-8")
        try:
            yield state
        finally:
            httpd.shutdown()
            state_file.unlink(missing_ok=True)


def _safe_uri(uri: str) -> str:
    """The URI without a password."""
    head, sep, tail = uri.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return uri
    scheme, _, cred = head.partition("//")
    return f"{scheme}//{cred.split(':', 1)[0]}:***@{tail}"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(plan: ServerPlan, say: Callable[[str], None] = lambda line: None) -> None:
    """Run the team server until Ctrl-C or SIGTERM; both processes end with it."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with running_server(plan, say) as state:
            say(f"ready: MLFLOW_TRACKING_URI={state['url']} (Ctrl-C stops)")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    finally:
        signal.signal(signal.SIGTERM, previous)
