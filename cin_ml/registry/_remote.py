"""Governance actions on a team server, sent to its governance service as the authenticated
user (docs/architecture.md, section "Team server").

On a server store no user writes registered models or the governance history: the server's
permissions refuse it (HTTP 403). ``register``, ``review``, ``promote``, ``rollback``,
``check`` and ``verify`` are sent instead to the governance service that ``cin-ml server``
runs beside MLflow, with the user's MLflow credentials (HTTP basic auth). The service checks
the credentials against MLflow's own user store, the role in ``governance.toml`` against the
*authenticated* user, and acts as the governance service identity.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from cin_ml.errors import GateError, GovernanceError

ACTIONS = ("register", "review", "promote", "rollback", "check", "verify", "roles")
"""Governance actions the service performs (``roles``: the caller's ``[people]`` lists in
the server's own ``governance.toml``)."""
ENDPOINT_ENV = "CIN_ML_GOVERNANCE_URL"
ENDPOINT_TAG = "cin.governance.endpoint"
"""Tag of the ``cin-governance`` experiment naming the service's URL (written by the
service, readable by every user of the server)."""
USER_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"


def is_server_uri(tracking_uri: str) -> bool:
    """Whether ``tracking_uri`` names a tracking server (http or https)."""
    return tracking_uri.startswith(("http://", "https://"))


def governance_endpoint(tracking_uri: str, username: str | None = None,
                        password: str | None = None) -> str:
    """URL of the governance service of the server at ``tracking_uri``:
    ``$CIN_ML_GOVERNANCE_URL``, else the ``cin.governance.endpoint`` tag of the history
    experiment (read with the user's credentials)."""
    url = os.environ.get(ENDPOINT_ENV)
    if url:
        return url.rstrip("/")
    from cin_ml.registry._history import EXPERIMENT

    exp = _get_json(f"{tracking_uri.rstrip('/')}/api/2.0/mlflow/experiments/get-by-name"
                    f"?experiment_name={EXPERIMENT}", username, password)
    tags = {t["key"]: t["value"] for t in exp.get("experiment", {}).get("tags", [])}
    if ENDPOINT_TAG not in tags:
        raise GovernanceError(f"the server {tracking_uri} announces no governance service "
                              f"(tag {ENDPOINT_TAG} of experiment {EXPERIMENT}); is it a "
                              f"`cin-ml server`? Set ${ENDPOINT_ENV} otherwise")
    return tags[ENDPOINT_TAG].rstrip("/")


def act_on_server(tracking_uri: str, action: str, params: Mapping[str, Any] | None = None, *,
                  username: str | None = None, password: str | None = None,
                  endpoint: str | None = None, timeout_s: float = 300.0) -> dict:
    """Perform governance ``action`` on the team server at ``tracking_uri`` as the user
    ``username`` authenticated by ``password`` (default: ``$MLFLOW_TRACKING_USERNAME`` and
    ``$MLFLOW_TRACKING_PASSWORD``), and return the action's result (the same dict the local
    :mod:`cin_ml.registry` function returns).

    Parameters
    ----------
    tracking_uri
        The MLflow server, e.g. ``http://127.0.0.1:5000``.
    action
        One of :data:`ACTIONS`.
    params
        The action's arguments by name, as the local functions take them: ``register``:
        ``run_id``; ``review``: ``model``, ``version``, ``approve``, ``comment``,
        ``conditions``, ``condition_rules`` (list of conditions as code), ``accept_fairness``
        (list), ``expires`` (YYYY-MM-DD); ``promote``:
        ``model``, ``version``, ``alias``, ``why``; ``rollback``: ``model``, ``why``;
        ``check``: ``on_date``; ``roles``: none (returns ``user`` and ``roles``, the
        ``[people]`` lists that name the authenticated user). ``author`` / ``reviewer`` /
        ``operator`` / ``actor``, when given, must name the authenticated user (normalized)
        or the service refuses.
    endpoint
        The governance service's URL (default: :func:`governance_endpoint`).

    Raises
    ------
    GateError
        A promotion or rollback refused by its gates (``failed_gates``).
    GovernanceError
        Bad credentials (401), a role or identity refused by the server (403, message says
        which) or any other refusal of the action.
    """
    if action not in ACTIONS:
        raise GovernanceError(f"unknown governance action {action!r}; known: "
                              f"{', '.join(ACTIONS)}")
    user = username if username is not None else os.environ.get(USER_ENV)
    pw = password if password is not None else os.environ.get(PASSWORD_ENV)
    if not user or not pw:
        raise GovernanceError(f"on a team server, governance actions need your credentials: "
                              f"set ${USER_ENV} and ${PASSWORD_ENV}")
    url = endpoint or governance_endpoint(tracking_uri, user, pw)
    body = json.dumps(dict(params or {})).encode()
    req = urllib.request.Request(f"{url}/governance/{action}", data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": _basic(user, pw)})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        raise _error(exc) from None
    except OSError as exc:
        raise GovernanceError(f"the governance service {url} did not answer: {exc}") from None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _get_json(url: str, user: str | None, password: str | None) -> dict:
    headers = {"Authorization": _basic(user, password)} if user and password else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        raise GovernanceError(f"{url.split('?')[0]}: HTTP {exc.code}"
                              + (" (set $MLFLOW_TRACKING_USERNAME/PASSWORD)"
                                 if exc.code == 401 else "")) from None
    except OSError as exc:
        raise GovernanceError(f"the server did not answer ({url.split('?')[0]}): {exc}") from None


def _error(exc: urllib.error.HTTPError) -> GovernanceError:
    try:
        data = json.loads(exc.read() or b"{}")
    except ValueError:
        data = {}
    msg = data.get("error") or f"HTTP {exc.code}"
    if exc.code == 401:
        return GovernanceError(f"the server refused your credentials (HTTP 401): {msg}")
    if exc.code == 403:
        return GovernanceError(f"refused by the server (HTTP 403): {msg}")
    if data.get("failed_gates") is not None:
        return GateError(msg, failed_gates=list(data["failed_gates"]))
    return GovernanceError(msg)
