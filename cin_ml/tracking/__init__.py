"""MLflow tracking for cin-ml: the store, training runs, run artifacts and run bundles.

With :mod:`cin_ml.registry`, the only module that imports mlflow (import-linter contract).

Store (docs/architecture.md, "MLflow conventions"): ``sqlite:///mlruns/mlflow.db`` with
artifacts under ``mlruns/artifacts/``, in the workspace: the nearest folder from the working
directory up that holds one, else the working directory (:func:`cin_ml.store.resolve_store`);
``MLFLOW_TRACKING_URI`` overrides. For any ``sqlite:///.../X.db`` URI artifacts go to an
``artifacts/`` folder beside the database; for a server URI the server decides (or
``CIN_ML_ARTIFACT_ROOT``).

Public API used by the other steps::

    bundle = load_run_bundle(run_id)              # frames, dicts and the model of a run
    log_artifacts(run_id, {"fairness/audit.json": {...}, "fairness/fnr.png": fig})
"""

import warnings as _warnings

from cin_ml.tracking._artifacts import list_artifacts, load_artifact, log_artifacts, log_metrics
from cin_ml.tracking._monitoring import find_monitoring_runs, log_monitoring_run
from cin_ml.tracking._reader import RunReader, download_location, load_local_model
from cin_ml.tracking._runs import RunBundle, flat_metrics, load_run_bundle, log_training
from cin_ml.tracking._serving import ServedModel, resolve_served_model
from cin_ml.tracking._store import (
    Store,
    git_commit,
    resolve_store,
    training_run,
)
from cin_ml.tracking._ui import port_is_free, running_mlflow, running_ui, serve_ui, ui_command
from cin_ml.tracking._virtual_css import log_virtual_css_report  # virtual-css (issue 3)

# mlflow (and shap) import tqdm.auto; in a notebook without ipywidgets tqdm then warns
# "IProgress not found" at the reader (cin-ml draws no progress bar): not theirs to fix
_warnings.filterwarnings("ignore", message="IProgress not found")

__all__ = [
    "RunBundle",
    "RunReader",
    "ServedModel",
    "Store",
    "find_monitoring_runs",
    "flat_metrics",
    "download_location",
    "git_commit",
    "list_artifacts",
    "load_artifact",
    "load_local_model",
    "load_run_bundle",
    "log_artifacts",
    "log_metrics",
    "log_monitoring_run",
    "log_training",
    "log_virtual_css_report",
    "resolve_served_model",
    "resolve_store",
    "training_run",
    "port_is_free",
    "running_mlflow",
    "running_ui",
    "serve_ui",
    "ui_command",
]
