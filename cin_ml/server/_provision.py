"""Users, permissions, experiments and registered models of a team server, from
``governance.toml`` (docs/architecture.md, section "Team server").

Run as the governance service identity (an MLflow admin). Idempotent: what exists is left
as it is, grants are (re)written, and every step is reported as one line.

Permissions (MLflow's basic-auth app; ``default_permission`` READ or NO_PERMISSIONS):

============================  ==================  ==============================
resource                      data scientists     committee, operators
============================  ==================  ==============================
task experiments, virtual-css EDIT (train, log)   READ
registered task models        READ                READ
``cin-governance`` history    READ                READ
============================  ==================  ==============================

The service identity creates every resource (MANAGE) and is the only one that writes
registered models and the history; committee and operators act through the governance
service, never by writing themselves.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from cin_ml.errors import ConfigError

TRAINING_EXPERIMENTS = ("virtual-css",)
"""Experiments besides the task experiments that data scientists write."""


def read_passwords(path: Path) -> dict[str, str]:
    """``user = "password"`` lines of a TOML file (empty when the file does not exist)."""
    import tomllib

    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    bad = [k for k, v in data.items() if not isinstance(v, str) or len(v) < 8]
    if bad:
        raise ConfigError(f"{path}: password of {', '.join(bad)} must be a string of at "
                          f"least 8 characters")
    return dict(data)


def ensure_passwords(path: Path, users: list[str]) -> tuple[dict[str, str], list[str]]:
    """Passwords of ``users`` from ``path``; missing ones are generated and added to the file
    (mode 0600, rewritten atomically). Returns the passwords and the users given new ones."""
    import json
    import os

    known = read_passwords(path)
    new = [u for u in users if u not in known]
    if new:
        known.update({u: secrets.token_urlsafe(18) for u in new})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# cin-ml server: user passwords (keep on the server, mode 0600)\n")
            for u, pw in known.items():
                fh.write(f"{json.dumps(u)} = {json.dumps(pw)}\n")
        os.replace(tmp, path)
    return known, new


def provision(tracking_uri: str, people, service_user: str, passwords: dict[str, str],
              say: Callable[[str], None] = lambda line: None) -> None:
    """Create the users, experiments, registered models and grants (see module docstring),
    as the service identity (``$MLFLOW_TRACKING_USERNAME``/``PASSWORD`` of this process)."""
    from mlflow import MlflowClient
    from mlflow.server.auth.client import AuthServiceClient

    from cin_ml.registry import EXPERIMENT, ensure_managed_model, resolve_registry_store
    from cin_ml.store import ensure_experiment
    from cin_ml.tasks import TASKS, registered_model_name

    auth = AuthServiceClient(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    store = resolve_registry_store(tracking_uri)
    roles = {"data scientist": people.data_scientists, "committee": people.committee,
             "operator": people.operators}
    users = sorted({u for group in roles.values() for u in group} - {service_user})
    for u in users:
        try:
            auth.get_user(u)
            say(f"user {u}: exists")
        except Exception:
            auth.create_user(u, passwords[u])
            say(f"user {u}: created ({', '.join(r for r, g in roles.items() if u in g)})")
    models = [registered_model_name(t) for t in TASKS]
    training = [*models, *TRAINING_EXPERIMENTS]
    exp_ids = {}
    for name in [*training, EXPERIMENT]:
        exp_ids[name] = ensure_experiment(client, name, store)
        say(f"experiment {name}: id {exp_ids[name]}")
    for task in TASKS:
        ensure_managed_model(client, registered_model_name(task), task)
        say(f"registered model {registered_model_name(task)}: managed by cin-ml")
    for u in users:
        writes = u in people.data_scientists
        for name in training:
            _grant(auth, u, "experiment", exp_ids[name], "EDIT" if writes else "READ")
        _grant(auth, u, "experiment", exp_ids[EXPERIMENT], "READ")
        for m in models:
            _grant(auth, u, "registered_model", m, "READ")
        say(f"grants {u}: {'EDIT' if writes else 'READ'} on "
            f"{', '.join(training)}; READ on {', '.join(models)}, {EXPERIMENT}")


def _grant(auth, user: str, kind: str, resource: str, permission: str) -> None:
    """Make ``user``'s grant on the resource exactly ``permission`` (idempotent)."""
    try:
        auth.grant_user_permission(user, kind, resource, permission)
    except Exception as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc):
            raise
        if auth.get_user_permission(user, kind, resource).permission != permission:
            auth.revoke_user_permission(user, kind, resource)
            auth.grant_user_permission(user, kind, resource, permission)
