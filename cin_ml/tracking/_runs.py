"""Logging a training run and reading it back as a :class:`RunBundle`."""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cin_ml.errors import TrackingError
from cin_ml.tracking._artifacts import _get_run, _write, load_artifact
from cin_ml.tracking._store import MODEL_NAME, Store, _client, _mlflow, as_store

BUNDLE_ARTIFACTS = {
    "model_meta": "model_meta.json",
    "evaluation": "evaluation/metrics.json",
    "feature_policy": "policy/feature_policy.json",
    "test_predictions": "evaluation/test_predictions.parquet",
    "test_features": "evaluation/test_features.parquet",
}


def _flat_metrics(m: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k in ("test_auc", "test_average_precision", "test_brier", "indicator_auc",
              "logistic_auc", "oracle_auc", "auc_gap_to_oracle", "oracle_brier",
              "n_train", "n_valid", "n_test", "test_event_rate"):
        if m.get(k) is not None:
            out[k] = float(m[k])
    for k, v in m.get("at_threshold", {}).items():
        if isinstance(v, float) and not math.isnan(v):
            out[f"test_{k}_at_threshold"] = v
    for k, v in m.get("indicator_at_flag", {}).items():
        if isinstance(v, float) and not math.isnan(v):
            out[f"indicator_{k}"] = v
    for k, v in m.get("model_at_indicator_rate", {}).items():
        if isinstance(v, float) and not math.isnan(v):
            out[f"test_{k}_at_indicator_rate"] = v
    out["test_ece"] = float(m["reliability"]["ece"])
    for name, ci in m["bootstrap"]["intervals"].items():
        for side in ("low", "high"):
            if ci[side] is not None:
                out[f"{name}_ci_{side}"] = float(ci[side])
    return out


def log_training(run_id: str, result, *, data_dir: str, data_form: str,
                 datasets: Mapping[str, pd.DataFrame] | None = None,
                 figures: Mapping[str, Any] | None = None,
                 extra_files: Mapping[str, Any] | None = None,
                 store: Store | str | None = None) -> dict:
    """Log a :class:`~cin_ml.models.TrainingResult` to run ``run_id``.

    Logs params, flat metrics, dataset inputs (with digests and source ``data_dir``), the
    artifacts listed in docs/CONTRACTS.md and the model (``mlflow.lightgbm.log_model``, float
    inputs with integer-coded categories, signature, input example, explicit pip
    requirements). All artifacts are serialized locally before anything is uploaded.

    Returns
    -------
    dict
        ``{"run_id", "model_uri", "artifacts"}``.
    """
    import lightgbm
    from mlflow.models import infer_signature

    store = as_store(store)
    mlflow = _mlflow(store)
    client = _client(store)
    files: dict[str, Any] = {
        BUNDLE_ARTIFACTS["model_meta"]: result.model_meta(),
        BUNDLE_ARTIFACTS["evaluation"]: {**result.metrics, "threshold": result.threshold,
                                         "split": result.split.to_dict()},
        BUNDLE_ARTIFACTS["feature_policy"]: result.policy,
        BUNDLE_ARTIFACTS["test_predictions"]: result.test,
        BUNDLE_ARTIFACTS["test_features"]: result.test_features,
        "training/training.json": result.to_dict(),
        **(figures or {}), **(extra_files or {}),
    }
    with tempfile.TemporaryDirectory(prefix="cin-run-") as tmp:
        for name, obj in files.items():
            _write(Path(tmp, name), obj)
        X_ex = result.test_features[list(result.features)].head(5)
        signature = infer_signature(X_ex, result.booster.predict(X_ex))
        params = {"task": result.task, "best_iteration": result.best_iteration,
                  "n_features": len(result.features),
                  "calibration": result.calibration["method"],
                  "threshold_mode": result.threshold["mode"],
                  "threshold": result.threshold["value"],
                  "capacity": result.threshold["capacity"],
                  "train_cohorts": ",".join(map(str, result.split.train)),
                  "valid_cohort": result.split.valid, "test_cohort": result.split.test,
                  **{f"lgb_{k}": v for k, v in result.params.items()
                     if k not in ("verbosity", "metric", "objective")}}
        with mlflow.start_run(run_id=run_id):
            mlflow.log_params({k: str(v) for k, v in params.items()})
            mlflow.log_metrics(_flat_metrics(result.metrics))
            for ctx, df in (datasets or {}).items():
                with warnings.catch_warnings():  # a local folder matches two source types
                    warnings.filterwarnings("ignore", category=UserWarning,
                                            message="The specified dataset source")
                    ds = mlflow.data.from_pandas(df, source=data_dir,
                                                 name=f"{result.task}-{ctx}",
                                                 targets="label" if "label" in df else None)
                mlflow.log_input(ds, context=ctx, tags={"cin.data_form": data_form})
            info = mlflow.lightgbm.log_model(
                result.booster, name=MODEL_NAME, signature=signature, input_example=X_ex,
                pip_requirements=[f"lightgbm=={lightgbm.__version__}",
                                  f"numpy=={np.__version__}", f"pandas=={pd.__version__}"])
            client.log_artifacts(run_id, tmp)
            mlflow.set_tag("cin.model_uri", info.model_uri)
    return {"run_id": run_id, "model_uri": info.model_uri, "artifacts": sorted(files)}


@dataclass(frozen=True)
class RunBundle:
    """A training run read back: its records, frames and model, with no mlflow needed by
    the caller. ``model`` is the LightGBM booster (returns calibrated probabilities on the
    encoded matrix; see :meth:`predict`)."""

    run_id: str
    experiment_id: str
    task: str
    status: str
    tags: dict
    params: dict
    metrics: dict
    model_meta: dict
    evaluation: dict
    feature_policy: dict
    test_predictions: pd.DataFrame
    test_features: pd.DataFrame
    model: Any
    model_uri: str
    artifact_uri: str
    extra: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return list(self.model_meta["features"])

    @property
    def threshold(self) -> float:
        return float(self.model_meta["threshold"]["value"])

    def encode(self, X: pd.DataFrame) -> pd.DataFrame:
        """Model input matrix (float64, integer-coded categories) from raw features."""
        maps = self.model_meta.get("category_maps", {})
        out = {}
        for c in self.features:
            if c not in X.columns:
                raise TrackingError(f"run {self.run_id}: input lacks feature '{c}'")
            if c in maps:
                codes = {v: float(i) for i, v in enumerate(maps[c])}
                out[c] = X[c].astype("string").map(codes).astype("float64")
            else:
                out[c] = pd.to_numeric(X[c], errors="coerce").astype("float64")
        return pd.DataFrame(out, index=X.index)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities for raw (or already encoded) features."""
        return self.model.predict(self.encode(X))

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "experiment_id": self.experiment_id,
                "task": self.task, "status": self.status, "model_uri": self.model_uri,
                "artifact_uri": self.artifact_uri, "features": self.features,
                "threshold": self.threshold, "metrics": dict(sorted(self.metrics.items()))}


def load_run_bundle(run_id: str, store: Store | str | None = None) -> RunBundle:
    """Read a finished training run back (frames, dicts and the LightGBM model).

    Raises
    ------
    TrackingError
        Unknown run, a run that is not a finished training run, or a missing artifact.
    """
    store = as_store(store)
    mlflow = _mlflow(store)
    client = _client(store)
    run = _get_run(client, run_id)
    tags = dict(run.data.tags)
    if tags.get("cin.kind") != "train":
        raise TrackingError(f"run {run_id} is not a cin-ml training run "
                            f"(tag cin.kind={tags.get('cin.kind')!r})")
    if run.info.status != "FINISHED":
        raise TrackingError(f"run {run_id} is {run.info.status}, not FINISHED: its outputs "
                            f"may be incomplete; train again")
    parts = {k: load_artifact(run_id, p, store) for k, p in BUNDLE_ARTIFACTS.items()}
    model_uri = tags.get("cin.model_uri") or f"runs:/{run_id}/{MODEL_NAME}"
    try:
        model = mlflow.lightgbm.load_model(model_uri)
    except Exception as exc:
        raise TrackingError(f"run {run_id}: cannot load model {model_uri} "
                            f"({type(exc).__name__})") from None
    return RunBundle(run_id, run.info.experiment_id, tags.get("cin.task", ""),
                     run.info.status, tags, dict(run.data.params), dict(run.data.metrics),
                     parts["model_meta"], parts["evaluation"], parts["feature_policy"],
                     parts["test_predictions"], parts["test_features"], model, model_uri,
                     run.info.artifact_uri)
