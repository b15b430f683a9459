"""Where the MLflow tracking store and its artifacts live (no mlflow import here).

One resolution for everything tracked, shared by :mod:`cin_ml.tracking` and
:mod:`cin_ml.registry` (sibling layers that may not import each other):

1. ``tracking_uri`` when given, else ``$MLFLOW_TRACKING_URI`` (e.g. a team server);
2. else the embedded store of the **workspace**, found like git finds its repository: from
   the working directory up to the filesystem root, the nearest folder holding
   ``mlruns/mlflow.db`` (so ``cin-ml`` run from ``data/`` or ``notebooks/`` uses the store
   that ``cin-ml train`` created one level up, instead of silently starting an empty one);
3. else, when no folder up the tree has one, a new ``<cwd>/mlruns/mlflow.db``.

The URI is absolute (``sqlite:////abs/path/mlruns/mlflow.db``), so it means the same store
wherever it is recorded or passed on. Artifacts go under ``$CIN_ML_ARTIFACT_ROOT``, or
``artifacts/`` beside a SQLite database. The plain ``./mlruns`` file store is refused
(current MLflow deprecates it and silently falls back to it when a folder of experiments
exists).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cin_ml.errors import TrackingError

__all__ = ["DEFAULT_STORE_DIR", "Store", "ensure_experiment", "find_workspace_db",
           "resolve_store"]

DEFAULT_STORE_DIR = "mlruns"
DB_NAME = "mlflow.db"


@dataclass(frozen=True)
class Store:
    """Where runs (``tracking_uri``) and their artifacts (``artifact_root``) live."""

    tracking_uri: str
    artifact_root: str | None

    @property
    def sqlite_path(self) -> Path | None:
        if self.tracking_uri.startswith("sqlite:///"):
            return Path(self.tracking_uri.removeprefix("sqlite:///"))
        return None

    def to_dict(self) -> dict:
        return {"tracking_uri": self.tracking_uri, "artifact_root": self.artifact_root}


def find_workspace_db(start: Path | str | None = None) -> Path | None:
    """The nearest ``mlruns/mlflow.db`` from ``start`` (default: the working directory) up to
    the filesystem root, or ``None`` when no folder on the way holds one."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        db = folder / DEFAULT_STORE_DIR / DB_NAME
        if db.is_file():
            return db
    return None


def resolve_store(tracking_uri: str | None = None) -> Store:
    """The store to use (see the module docstring); creates a SQLite store's folder."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        db = find_workspace_db() or Path.cwd().resolve() / DEFAULT_STORE_DIR / DB_NAME
        uri = f"sqlite:///{db}"
    root = os.environ.get("CIN_ML_ARTIFACT_ROOT")
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        db.parent.mkdir(parents=True, exist_ok=True)
        root = root or str((db.parent / "artifacts").resolve())
    elif uri.startswith("file:") or "://" not in uri:
        raise TrackingError(f"MLFLOW_TRACKING_URI={uri!r}: the plain file store is not "
                            f"supported; use sqlite:///path/mlflow.db or a server URL")
    return Store(uri, root)


EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}
"""Tags of every experiment cin-ml creates: MLflow 3's UI opens an experiment of this kind on
its runs, not on the (empty) GenAI traces view."""


def ensure_experiment(client, name: str, store: Store,
                      error: type[Exception] = TrackingError) -> str:
    """Id of experiment ``name`` on ``client`` (an MlflowClient), created with an artifact
    location pinned under the store's artifact root if missing; a deleted one is ``error``."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            raise error(f"experiment '{name}' is deleted in {store.tracking_uri}; restore it "
                        f"or use another store")
        return exp.experiment_id
    loc = Path(store.artifact_root, name).as_uri() if store.artifact_root else None
    try:
        return client.create_experiment(name, artifact_location=loc, tags=EXPERIMENT_TAGS)
    except Exception:  # created concurrently by another process
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id
