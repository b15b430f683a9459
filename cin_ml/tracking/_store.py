"""The tracking store, experiments and the training-run lifecycle."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cin_ml.errors import TrackingError

DEFAULT_STORE_DIR = "mlruns"
MODEL_NAME = "model"


@dataclass(frozen=True)
class Store:
    """Where runs (``tracking_uri``) and their artifacts (``artifact_root``) live."""

    tracking_uri: str
    artifact_root: str | None

    def to_dict(self) -> dict:
        return {"tracking_uri": self.tracking_uri, "artifact_root": self.artifact_root}


def resolve_store(tracking_uri: str | None = None) -> Store:
    """The store to use: ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the embedded
    default ``sqlite:///<cwd>/mlruns/mlflow.db`` (artifacts in ``<cwd>/mlruns/artifacts``)."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        uri = f"sqlite:///{(Path.cwd() / DEFAULT_STORE_DIR / 'mlflow.db').resolve()}"
    root = os.environ.get("CIN_ML_ARTIFACT_ROOT")
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        db.parent.mkdir(parents=True, exist_ok=True)
        root = root or str((db.parent / "artifacts").resolve())
    elif uri.startswith("file:") or "://" not in uri:
        raise TrackingError(f"MLFLOW_TRACKING_URI={uri!r}: the plain file store is not "
                            f"supported; use sqlite:///path/mlflow.db or a server URL")
    return Store(uri, root)


def as_store(store: Store | str | None) -> Store:
    """A :class:`Store` from a Store, a tracking URI or ``None`` (the default store)."""
    return store if isinstance(store, Store) else resolve_store(store)


def _quiet_mlflow() -> None:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _mlflow(store: Store):
    _quiet_mlflow()
    import mlflow

    mlflow.set_tracking_uri(store.tracking_uri)
    return mlflow


def _client(store: Store):
    _quiet_mlflow()
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store.tracking_uri)


def experiment_name(task: str) -> str:
    """Experiment of a task: ``cin-ecriture-4e``, ``cin-decrochage``."""
    return "cin-" + task.replace("_", "-")


def _experiment_id(client, name: str, store: Store) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            raise TrackingError(f"experiment '{name}' is deleted in {store.tracking_uri}; "
                                f"restore it or use another store")
        return exp.experiment_id
    loc = Path(store.artifact_root, name).as_uri() if store.artifact_root else None
    try:
        return client.create_experiment(name, artifact_location=loc)
    except Exception:  # created concurrently by another process
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def git_commit() -> str:
    """Commit of the working tree (``unknown`` outside git); ``+dirty`` if modified."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@contextlib.contextmanager
def training_run(task: str, tags: Mapping[str, str], store: Store | str | None = None,
                 run_name: str | None = None) -> Iterator[str]:
    """Open a run in the task's experiment and yield its id.

    The run ends FINISHED when the block succeeds and FAILED if it raises (the exception
    propagates), so a crash never leaves a run looking complete.
    """
    store = as_store(store)
    client = _client(store)
    exp_id = _experiment_id(client, experiment_name(task), store)
    all_tags = {"cin.task": task, "cin.kind": "train", "cin.git_commit": git_commit(),
                **{k: str(v) for k, v in tags.items()}}
    run = client.create_run(exp_id, tags=all_tags, run_name=run_name)
    run_id = run.info.run_id
    try:
        yield run_id
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")


def ui_command(port: int = 5000, tracking_uri: str | None = None) -> list[str]:
    """The ``mlflow ui`` command line for the store (loopback, one worker: starts in ~7 s)."""
    import sys

    store = resolve_store(tracking_uri)
    argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store.tracking_uri,
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    if store.artifact_root:
        argv += ["--default-artifact-root", store.artifact_root]
    return argv
