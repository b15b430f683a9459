"""The tracking store, experiments and the training-run lifecycle."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping

from cin_ml.store import Store, ensure_experiment, resolve_store

MODEL_NAME = "model"


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
    return ensure_experiment(client, name, store)


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
