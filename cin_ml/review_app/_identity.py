"""Who is reviewing: the ``Identity`` seam.

Two implementations, chosen from the store (:func:`identity_for`):

- :class:`DeclaredIdentity` (embedded SQLite store, single-user demo): the reviewer signs in
  by name on a small form; the name is *declared*, not authenticated (as ``--reviewer`` on
  the command line), and the page says so. Registry calls run in this process as is.
- :class:`ServerIdentity` (team server, ``MLFLOW_TRACKING_URI=http(s)://...``): the browser
  sends the user's own credentials (HTTP basic auth, the server's users); they are checked
  against the server (``GET /api/2.0/mlflow/users/current``) on every request, and every
  registry call of that request runs *as that user* through ``act_as``, so the server
  enforces that user's permissions; the decision itself goes to the server's governance
  service as that user (``submit``, default ``cin_ml.registry.act_on_server``), which checks
  the role against the authenticated user. ``act_as`` is the plug-in point for the team
  server's own "act as an authenticated user" function; the default sets MLflow's
  ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` for the duration of the call, under one
  process-wide lock (MLflow reads them from the environment at each request).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from cin_ml.errors import CinMLError, GovernanceError

USERNAME_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"


@dataclass(frozen=True)
class Principal:
    """The person behind a request: ``name`` as the registry compares identities, and
    whether a server authenticated it (``False``: declared)."""

    name: str
    authenticated: bool
    login: str = ""
    """The user name as the server knows it (``name`` is its normalized form)."""
    secret: str = field(default="", repr=False, compare=False)
    """The password of an authenticated principal, for the current request only."""


class Identity(Protocol):
    """How the review page knows who acts, and runs registry calls as them."""

    kind: str
    """``declared`` (sign-in by name) or ``server`` (credentials checked by the server)."""

    def principal(self, session: dict, authorization) -> Principal | None:
        """The signed-in principal of this request, or ``None``."""

    def sign_in(self, session: dict, name: str) -> Principal:
        """Record a declared sign-in (CinMLError when refused)."""

    def sign_out(self, session: dict) -> None:
        """Forget the signed-in principal."""

    def acting(self, who: Principal | None) -> AbstractContextManager[None]:
        """A context in which registry calls act as ``who``."""

    def is_committee(self, who: Principal | None, policy) -> bool:
        """Whether ``who`` sits on the ethics committee, by the list that decides: the
        page's policy on the embedded store, the server's own ``governance.toml`` on a
        team server (``policy`` is then not consulted)."""

    def review(self, ctx, who: Principal, model: str, version: str, *, approve: bool,
               comment: str, conditions: str, accept_fairness: list[str],
               expires: dt.date | None) -> dict:
        """Record ``who``'s decision exactly as ``cin-ml review`` does; returns the review
        summary (``state``, ``reviewer``, ``expires``, ``event``...)."""


class DeclaredIdentity:
    """Sign-in by name on the embedded store (identity declared, not authenticated)."""

    kind = "declared"
    _KEY = "who"

    def principal(self, session: dict, authorization=None) -> Principal | None:
        name = session.get(self._KEY)
        return Principal(name, authenticated=False) if name else None

    def sign_in(self, session: dict, name: str) -> Principal:
        from cin_ml.registry import check_identity

        who = check_identity(name or "", "reviewer")
        session[self._KEY] = who
        return Principal(who, authenticated=False)

    def sign_out(self, session: dict) -> None:
        session.pop(self._KEY, None)

    def acting(self, who: Principal | None) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def is_committee(self, who: Principal | None, policy) -> bool:
        return who is not None and who.name in policy.people.committee

    def review(self, ctx, who: Principal, model: str, version: str, *, approve: bool,
               comment: str, conditions: str, accept_fairness: list[str],
               expires: dt.date | None) -> dict:
        from cin_ml.registry import review

        return review(ctx, model, version, reviewer=who.name, approve=approve,
                      comment=comment, conditions=conditions,
                      accept_fairness=accept_fairness, expires=expires)


_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def act_with_environment(name: str, password: str) -> Iterator[None]:
    """Default ``act_as``: MLflow's client credentials set to ``name``/``password`` for the
    block, one block at a time in this process, then restored."""
    with _ENV_LOCK:
        before = {k: os.environ.get(k) for k in (USERNAME_ENV, PASSWORD_ENV)}
        os.environ[USERNAME_ENV], os.environ[PASSWORD_ENV] = name, password
        try:
            yield
        finally:
            for k, v in before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def check_server_credentials(tracking_uri: str, name: str, password: str,
                             timeout_s: float = 10.0) -> bool:
    """Whether the tracking server accepts ``name``/``password`` (its basic-auth app's
    ``users/current`` endpoint); CinMLError when the server cannot be reached."""
    url = tracking_uri.rstrip("/") + "/api/2.0/mlflow/users/current"
    token = base64.b64encode(f"{name}:{password}".encode()).decode("ascii")
    req = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310
            return 200 <= resp.status < 300
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return False
        raise GovernanceError(f"tracking server {tracking_uri} answered HTTP {exc.code} "
                              f"when checking credentials") from None
    except (urllib.error.URLError, OSError) as exc:
        raise GovernanceError(f"tracking server {tracking_uri} unreachable: "
                              f"{getattr(exc, 'reason', exc)}") from None


def submit_to_server(tracking_uri: str, action: str, params: dict, *, username: str,
                     password: str) -> dict:
    """Default ``submit``: the team server's governance client,
    ``cin_ml.registry.act_on_server`` (issue 20), which sends the action to the server's
    governance service as ``username``; GovernanceError while this cin-ml has none."""
    from cin_ml import registry

    act_on_server = getattr(registry, "act_on_server", None)
    if act_on_server is None:
        raise GovernanceError("decisions on a team server go through its governance service, "
                              "and this cin-ml has no client for it (cin_ml.registry."
                              "act_on_server)")
    return act_on_server(tracking_uri, action, params, username=username, password=password)


class ServerIdentity:
    """The server's users, via HTTP basic auth; every call acts as the authenticated user.

    ``act_as(user, password)`` wraps every read of the request (default
    :func:`act_with_environment`); ``submit(tracking_uri, action, params, username=,
    password=)`` sends the decision to the server as that user (default
    :func:`submit_to_server`)."""

    kind = "server"

    def __init__(self, tracking_uri: str,
                 act_as: Callable[[str, str], AbstractContextManager[None]] | None = None,
                 check: Callable[[str, str, str], bool] = check_server_credentials,
                 submit: Callable[..., dict] = submit_to_server,
                 cache_s: float = 60.0):
        self.tracking_uri = tracking_uri
        self.act_as = act_as or act_with_environment
        self.submit = submit
        self._check = check
        self._cache_s = cache_s
        self._ok: dict[str, float] = {}
        self._roles: dict[str, tuple[float, frozenset[str]]] = {}

    def principal(self, session: dict, authorization) -> Principal | None:
        from cin_ml.registry import check_identity

        if authorization is None or authorization.type != "basic":
            return None
        name, password = authorization.username or "", authorization.password or ""
        digest = hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()
        if self._ok.get(digest, 0.0) < time.monotonic():
            if not name or not self._check(self.tracking_uri, name, password):
                return None
            self._ok[digest] = time.monotonic() + self._cache_s
        try:
            who = check_identity(name, "reviewer")
        except CinMLError:
            return None
        return Principal(who, authenticated=True, login=name, secret=password)

    def sign_in(self, session: dict, name: str) -> Principal:
        raise GovernanceError("on a team server, sign in with your server credentials")

    def sign_out(self, session: dict) -> None:
        return None

    def acting(self, who: Principal | None) -> AbstractContextManager[None]:
        if who is None:
            return contextlib.nullcontext()
        return self.act_as(who.login or who.name, who.secret)

    def is_committee(self, who: Principal | None, policy=None) -> bool:
        """Asked of the server's governance service (action ``roles``, as ``who``), cached
        like the credentials; ``False`` when the service cannot say (the safe side: the
        page then reads as read-only, and the service still decides any decision)."""
        if who is None:
            return False
        key = hashlib.sha256(f"{who.login or who.name}\0{who.secret}".encode()).hexdigest()
        until, roles = self._roles.get(key, (0.0, frozenset()))
        if until < time.monotonic():
            try:
                roles = frozenset(self.submit(self.tracking_uri, "roles", {},
                                              username=who.login or who.name,
                                              password=who.secret).get("roles") or ())
            except CinMLError:
                roles = frozenset()
            self._roles[key] = (time.monotonic() + self._cache_s, roles)
        return "committee" in roles

    def review(self, ctx, who: Principal, model: str, version: str, *, approve: bool,
               comment: str, conditions: str, accept_fairness: list[str],
               expires: dt.date | None) -> dict:
        params = {"model": model, "version": str(version), "approve": approve,
                  "reviewer": who.name, "comment": comment, "conditions": conditions,
                  "accept_fairness": list(accept_fairness),
                  **({"expires": expires.isoformat()} if expires else {})}
        return self.submit(self.tracking_uri, "review", params, username=who.login or who.name,
                           password=who.secret)


def identity_for(tracking_uri: str) -> Identity:
    """:class:`ServerIdentity` for an ``http(s)://`` store, else :class:`DeclaredIdentity`."""
    if tracking_uri.startswith(("http://", "https://")):
        return ServerIdentity(tracking_uri)
    return DeclaredIdentity()
