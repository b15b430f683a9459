"""The tracking store the registry works on, and the governance lock.

The store is resolved exactly as :func:`cin_ml.tracking.resolve_store` does (the two are
sibling layers and may not import each other; both call :func:`cin_ml.store.resolve_store`):
``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the nearest ``mlruns/mlflow.db`` from the
working directory up (the workspace), else a new ``<cwd>/mlruns/mlflow.db``; artifacts under
``$CIN_ML_ARTIFACT_ROOT`` or ``artifacts/`` beside a SQLite database. Every registry call goes
through a client bound to that store, never MLflow's global tracking URI
(:func:`version_source` covers the one place MLflow itself falls back to it).

Every governance mutation runs under one lock per store, so the history is a single chain
and two operators never interleave their steps:

- SQLite store: an OS file lock (``fcntl.flock``) on ``<db>.governance.lock``, released by
  the OS if the process dies;
- server store: a mutex made of MLflow's unique registered-model name
  (``cin-governance-lock``), created to acquire and deleted to release; one older than
  ``stale_after_s`` is taken to belong to a crashed process and broken.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from cin_ml.errors import GovernanceError
from cin_ml.store import Store, resolve_store
from cin_ml.store import ensure_experiment as _ensure_experiment

LOCK_MODEL = "cin-governance-lock"


RegistryStore = Store
"""Where the registry and the governance history live (the shared :class:`Store`)."""


def registry_client(store: Store):
    """An MlflowClient on the store (artifact download progress bars switched off: the
    registry downloads small JSON files, and the CLI prints its own output)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)


def version_source(client, store: Store, model_uri: str) -> str:
    """The ``source`` to create a model version from ``model_uri`` with ``client``.

    A ``models:/<model_id>`` source makes MLflow's in-process registry store (SQLite or another
    database) look the logged model up with a default ``MlflowClient()``, i.e. on the global
    tracking URI (``./mlflow.db`` in a fresh process: "Logged model m-... not found"). For such
    a store the logged model's artifact location, read here through ``client`` on the resolved
    store, is passed instead (what MLflow's own client does for registries that cannot resolve
    ``models:/`` URIs). A tracking server resolves the URI on its side, so it is kept.
    """
    if not model_uri.startswith("models:/m-") or store.tracking_uri.startswith(
            ("http://", "https://", "databricks")):
        return model_uri
    return client.get_logged_model(model_uri.removeprefix("models:/")).artifact_location


def resolve_registry_store(tracking_uri: str | None = None) -> Store:
    """The store to use (the shared resolution of :func:`cin_ml.store.resolve_store`)."""
    return resolve_store(tracking_uri)


def ensure_experiment(client, name: str, store: Store) -> str:
    """Id of experiment ``name``, created if missing (a deleted history is an error)."""
    return _ensure_experiment(client, name, store, GovernanceError)


@contextlib.contextmanager
def governance_lock(store: RegistryStore, timeout_s: float = 60.0,
                    stale_after_s: float = 300.0) -> Iterator[None]:
    """Hold the store's governance lock for the block (see module docstring).

    Raises
    ------
    GovernanceError
        If the lock is not obtained within ``timeout_s`` (naming who holds it, if known).
    """
    db = store.sqlite_path
    if db is not None:
        with _file_lock(db.with_name(db.name + ".governance.lock"), timeout_s):
            yield
    else:
        with _registry_mutex(store, timeout_s, stale_after_s):
            yield


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise GovernanceError(f"another governance action holds {path} since "
                                          f"more than {timeout_s:.0f} s; retry later") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _registry_mutex(store: RegistryStore, timeout_s: float,
                    stale_after_s: float) -> Iterator[None]:
    client = registry_client(store)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.create_registered_model(
                LOCK_MODEL, tags={"cin.lock.owner": owner, "cin.lock.at": f"{time.time():.3f}"},
                description="cin-ml governance lock (transient)")
            break
        except Exception:
            holder = _lock_holder(client)
            if holder is not None and time.time() - holder[1] > stale_after_s:
                with contextlib.suppress(Exception):
                    client.delete_registered_model(LOCK_MODEL)
                continue
            if time.monotonic() > deadline:
                who = holder[0] if holder else "unknown"
                raise GovernanceError(f"governance lock held by {who} for more than "
                                      f"{timeout_s:.0f} s; retry later") from None
            time.sleep(0.2)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            client.delete_registered_model(LOCK_MODEL)


def _lock_holder(client) -> tuple[str, float] | None:
    try:
        rm = client.get_registered_model(LOCK_MODEL)
    except Exception:
        return None
    try:
        return rm.tags.get("cin.lock.owner", "?"), float(rm.tags.get("cin.lock.at", "0"))
    except ValueError:
        return rm.tags.get("cin.lock.owner", "?"), 0.0
