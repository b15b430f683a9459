"""The tracking store, experiments and the training-run lifecycle."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from cin_ml.errors import TrackingError
from cin_ml.run_contract import RunKind, Tag
from cin_ml.store import Store, ensure_experiment, resolve_store
from cin_ml.tasks import registered_model_name


def as_store(store: Store | str | None) -> Store:
    """A :class:`Store` from a Store, a tracking URI or ``None`` (the default store)."""
    return store if isinstance(store, Store) else resolve_store(store)


def _quiet_mlflow() -> None:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # nothing phones home


@contextlib.contextmanager
def _fluent(store: Store) -> Iterator:
    """MLflow's fluent API (``start_run``, ``log_model``, ``log_input``: they have no
    store argument) bound to ``store`` for the block only. The global tracking URI and
    ``$MLFLOW_TRACKING_URI`` are restored afterwards, so no later call in the process can
    silently depend on them (a registry call once did, and crashed outside the demo)."""
    _quiet_mlflow()
    import mlflow
    from mlflow.tracking._tracking_service import utils

    env = os.environ.get("MLFLOW_TRACKING_URI")
    previous = utils._tracking_uri
    mlflow.set_tracking_uri(store.tracking_uri)
    try:
        yield mlflow
    finally:
        mlflow.set_tracking_uri(previous)
        if env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = env


def _client(store: Store):
    _quiet_mlflow()
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store.tracking_uri)


def _experiment_id(client, name: str, store: Store) -> str:
    return ensure_experiment(client, name, store)


def git_commit() -> str:
    """Commit of the git checkout cin-ml itself is installed from, ``+dirty`` if its tracked
    files are modified; ``unknown`` when the package is not tracked in a git checkout (a
    wheel install) or git is unavailable. The working directory plays no part: a run started from
    another repository records cin-ml's code, not that repository's."""
    import cin_ml

    here = Path(cin_ml.__file__).resolve().parent
    git = ["git", "-C", str(here)]
    try:
        # the package must be tracked there: a wheel installed in a venv inside some
        # checkout is not that checkout's code
        subprocess.run([*git, "ls-files", "--error-unmatch", "__init__.py"],
                       capture_output=True, timeout=5, check=True)
        sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_version() -> str:
    """The installed cin-ml version (``cin_ml.__version__``)."""
    import cin_ml

    return cin_ml.__version__


@contextlib.contextmanager
def tracked_run(experiment: str, tags: Mapping[str, str], store: Store | str | None = None,
                run_name: str | None = None, *, failure: str | None = None) -> Iterator[str]:
    """Open a run in ``experiment`` and yield its id: the one run lifecycle of cin-ml.

    The run is tagged with cin-ml's commit and version, then ``tags`` (which win). It ends
    FINISHED when the block succeeds and FAILED if it raises (the exception propagates), so
    a crash never leaves a run looking complete. With ``failure`` (what the run is, e.g.
    ``"monitoring run"``), an error other than a :class:`TrackingError` or an interrupt is
    raised again as one line, ``<failure> <run id>: <error type>: <message>``.
    """
    store = as_store(store)
    client = _client(store)
    exp_id = _experiment_id(client, experiment, store)
    all_tags = {str(k): str(v) for k, v in {
        Tag.GIT_COMMIT: git_commit(), Tag.VERSION: package_version(), **tags}.items()}
    run_id = client.create_run(exp_id, tags=all_tags, run_name=run_name).info.run_id
    try:
        yield run_id
    except BaseException as exc:
        client.set_terminated(run_id, "FAILED")
        if failure is None or isinstance(exc, TrackingError | KeyboardInterrupt):
            raise
        raise TrackingError(f"{failure} {run_id}: {type(exc).__name__}: {exc}") from None
    client.set_terminated(run_id, "FINISHED")


@contextlib.contextmanager
def training_run(task: str, tags: Mapping[str, str], store: Store | str | None = None,
                 run_name: str | None = None) -> Iterator[str]:
    """Open a run in the task's experiment and yield its id (:func:`tracked_run`: FINISHED
    when the block succeeds, FAILED if it raises, the exception propagating)."""
    with tracked_run(registered_model_name(task),
                     {Tag.TASK: task, Tag.KIND: RunKind.TRAIN, **tags},
                     store, run_name) as run_id:
        yield run_id
