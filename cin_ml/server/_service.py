"""The governance service: the only writer of registered models and of the history on a
team server (docs/architecture.md, section "Team server").

A small WSGI app beside MLflow. Each request ``POST /governance/<action>`` carries the
caller's MLflow credentials (HTTP basic auth); the service

1. authenticates them against MLflow's basic-auth user store (``users/current`` on the
   MLflow server with those credentials: the same users and passwords, one source of truth);
2. refuses (HTTP 403) a caller whose role in ``governance.toml`` does not allow the action,
   or who names another identity (``reviewer``, ``operator``, ``author``, ``actor``);
3. runs the :mod:`cin_ml.registry` action as the authenticated user, writing through its own
   MLflow client (the service identity, whose credentials and governance key stay here).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cin_ml.errors import CinMLError, GateError, GovernanceError

ROLE_OF_ACTION = {"register": ("data_scientists", "committee", "operators"),
                  "review": ("committee",), "promote": ("operators",),
                  "rollback": ("operators",), "check": ("operators",), "verify": None,
                  "roles": None}
"""Which ``[people]`` lists may call each action (``None``: any authenticated user)."""
IDENTITY_PARAMS = ("author", "reviewer", "operator", "actor")


_ONE_ACTION = threading.Lock()
"""The service performs one action at a time (the registry's own lock is held inside)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_lock(tracking_uri: str, only_dead: bool = False) -> str | None:
    """Delete the registry's governance lock (``cin-governance-lock``) and return its
    recorded owner, if there is one. The service is the only legitimate holder and runs one
    action at a time, so a lock found while it holds :data:`_ONE_ACTION` was left by a killed
    server or created by a user (anyone may create a registered model): both are cleared.
    With ``only_dead``, only a lock of a process of this host that is gone is cleared."""
    from mlflow import MlflowClient

    from cin_ml.registry import LOCK_MODEL

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        owner = client.get_registered_model(LOCK_MODEL).tags.get("cin.lock.owner", "")
    except Exception:
        return None
    host, _, pid = owner.rpartition(":")
    if only_dead and not (host == socket.gethostname() and pid.isdigit()
                          and not _pid_alive(int(pid))):
        return None
    with contextlib.suppress(Exception):
        client.delete_registered_model(LOCK_MODEL)
        return owner or "?"
    return None


class Refused(Exception):
    """The caller may not perform the action (HTTP 403)."""


@dataclass(frozen=True)
class GovernanceService:
    """What the service needs: the MLflow server, the policy files, the service user."""

    tracking_uri: str
    service_user: str
    governance_config: Path | None = None
    consent_config: Path | None = None
    demo_key: bool = False

    def authenticate(self, header: str | None) -> str | None:
        """The authenticated username for an ``Authorization`` header, else ``None``."""
        if not header or not header.startswith("Basic "):
            return None
        req = urllib.request.Request(f"{self.tracking_uri}/api/2.0/mlflow/users/current",
                                     headers={"Authorization": header})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())["user"]["username"]
        except (urllib.error.HTTPError, KeyError, ValueError):
            return None

    def ctx(self, on_date: dt.date | None = None):
        from cin_ml.consent import load_agreements
        from cin_ml.registry import load_governance_settings, make_ctx

        return make_ctx(load_governance_settings(self.governance_config),
                        load_agreements(self.consent_config), self.tracking_uri, on_date,
                        demo_key=self.demo_key)

    def perform(self, user: str, action: str, params: dict) -> dict:
        """Run ``action`` as the authenticated ``user`` (Refused: HTTP 403)."""
        from cin_ml.registry import load_governance_settings, normalize_identity

        if action not in ROLE_OF_ACTION:
            raise GovernanceError(f"unknown governance action {action!r}")
        who = normalize_identity(user)
        for name in IDENTITY_PARAMS:
            given = params.get(name)
            if given and normalize_identity(str(given)) != who:
                raise Refused(f"--{name} {given!r} is not the authenticated user {who!r}: on "
                              f"a team server you act only as yourself")
        people = load_governance_settings(self.governance_config).people
        lists = ROLE_OF_ACTION[action]
        if lists is not None and who != self.service_user and not any(
                who in getattr(people, n) for n in lists):
            roles = " or ".join(n.replace("_", " ") for n in lists)
            raise Refused(f"{who!r} may not {action}: only {roles} "
                          f"(governance.toml [people])")
        with _ONE_ACTION:
            clear_lock(self.tracking_uri)
            return _ACTIONS[action](self, who, params)


def _register(svc: GovernanceService, who: str, p: dict) -> dict:
    from cin_ml.registry import register

    return register(svc.ctx(), str(p["run_id"]), author=who, actor=who)


def _review(svc: GovernanceService, who: str, p: dict) -> dict:
    from cin_ml.registry import parse_day, review

    until = parse_day(p.get("expires"), "'expires'")
    return review(svc.ctx(), p["model"], p["version"], reviewer=who,
                  approve=bool(p["approve"]), comment=p.get("comment", ""),
                  conditions=p.get("conditions", ""),
                  accept_fairness=tuple(p.get("accept_fairness") or ()), expires=until,
                  condition_rules=tuple(p.get("condition_rules") or ()))


def _promote(svc: GovernanceService, who: str, p: dict) -> dict:
    from cin_ml.registry import promote

    return promote(svc.ctx(), p["model"], p["version"], alias=p.get("alias", "champion"),
                   operator=who, why=p.get("why", ""))


def _rollback(svc: GovernanceService, who: str, p: dict) -> dict:
    from cin_ml.registry import rollback

    return rollback(svc.ctx(), p["model"], operator=who, why=p.get("why", ""))


def _check(svc: GovernanceService, who: str, p: dict) -> dict:
    from cin_ml.registry import check, parse_day

    day = parse_day(p.get("on_date"), "'on_date'")
    return check(svc.ctx(day), actor=who).to_dict()


def _verify(svc: GovernanceService, who: str, p: dict) -> dict:
    from cin_ml.registry import verify

    return verify(svc.ctx()).to_dict()


def _roles(svc: GovernanceService, who: str, p: dict) -> dict:
    """The ``[people]`` lists of the server's governance.toml that name ``who``: what the
    review page shows as the caller's role (the server's list, not the page's local copy)."""
    from cin_ml.registry import load_governance_settings

    people = load_governance_settings(svc.governance_config).people
    return {"user": who, "roles": [n for n in ("committee", "operators", "data_scientists")
                                   if who in getattr(people, n)]}


_ACTIONS: dict[str, Callable[[GovernanceService, str, dict], dict]] = {
    "register": _register, "review": _review, "promote": _promote, "rollback": _rollback,
    "check": _check, "verify": _verify, "roles": _roles}


def wsgi_app(svc: GovernanceService):
    """The WSGI application of the service (``POST /governance/<action>``, ``GET /health``)."""

    def app(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")

        def reply(status: int, data: dict, extra: tuple = ()):
            body = json.dumps(data, default=str).encode()
            start_response(f"{status} {_REASONS.get(status, 'Error')}",
                           [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), *extra])
            return [body]

        if path == "/health":
            return reply(200, {"status": "ok"})
        if not path.startswith("/governance/") or method != "POST":
            return reply(404, {"error": "not found"})
        user = svc.authenticate(environ.get("HTTP_AUTHORIZATION"))
        if user is None:
            return reply(401, {"error": "unknown user or wrong password"},
                         (("WWW-Authenticate", 'Basic realm="cin-ml governance"'),))
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            params = json.loads(environ["wsgi.input"].read(size) or b"{}")
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            return reply(400, {"error": "the request body must be a JSON object"})
        try:
            return reply(200, svc.perform(user, path.removeprefix("/governance/"), params))
        except Refused as exc:
            return reply(403, {"error": str(exc)})
        except GateError as exc:
            return reply(409, {"error": str(exc), "failed_gates": exc.failed_gates})
        except (CinMLError, KeyError) as exc:
            msg = str(exc) if isinstance(exc, CinMLError) else f"missing parameter {exc}"
            return reply(409, {"error": msg})

    return app


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 409: "Conflict"}
