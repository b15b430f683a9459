"""Team deployment: ``cin-ml server`` (docs/architecture.md, section "Team server").

An MLflow tracking server on PostgreSQL with served artifacts and MLflow's basic-auth app,
bound to loopback by default, plus the **governance service** beside it: the only writer of
registered models and of the ``cin-governance`` history. Users (data scientists, committee,
operators from ``governance.toml``) get READ on models and history and, for data scientists,
EDIT on the task experiments; so a stock ``MlflowClient`` moving ``@champion``, writing a
review tag or a history run gets HTTP 403, and governance actions go through the service,
which authenticates the caller with MLflow's own user store and acts as the authenticated
user (:func:`cin_ml.registry.act_on_server` is the client side).

Sits beside :mod:`cin_ml.pipeline` (only the CLI imports it); imports mlflow (auth client).

Public API::

    plan = make_plan(load_server_settings(), backend_store_uri=..., data_dir=..., port=...)
    serve(plan, say=print)                         # until Ctrl-C / SIGTERM
    with running_server(plan) as state: ...        # state["url"], ["governance_url"]
    backup(plan.backend_store_uri, plan.artifacts_dir, dest)   # pg_dump + artifacts
"""

from cin_ml.server._backup import backup, libpq_uri
from cin_ml.server._provision import ensure_passwords, provision, read_passwords
from cin_ml.server._serve import (
    STATE_FILE,
    ServerPlan,
    make_plan,
    mlflow_command,
    running_server,
    serve,
)
from cin_ml.server._service import ROLE_OF_ACTION, GovernanceService, clear_lock, wsgi_app
from cin_ml.server._settings import ServerSettings, load_server_settings

__all__ = ["ROLE_OF_ACTION", "STATE_FILE", "GovernanceService", "ServerPlan",
           "ServerSettings", "backup", "clear_lock", "ensure_passwords",
           "libpq_uri", "load_server_settings", "make_plan", "mlflow_command", "provision",
           "read_passwords", "running_server", "serve", "wsgi_app"]
