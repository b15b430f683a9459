"""Logging a training run and reading it back as a :class:`RunBundle`."""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cin_ml.errors import TrackingError
from cin_ml.run_contract import Artifact, RunKind, Tag
from cin_ml.tracking._artifacts import _write
from cin_ml.tracking._reader import RunReader
from cin_ml.tracking._store import Store, _client, _fluent, as_store


def flat_metrics(m: Mapping[str, Any]) -> dict[str, float]:
    """The run's flat metrics (docs/architecture.md, "Run contract") from its
    ``evaluation/metrics.json``: what training logs, and what the registry's gates read from
    the hash-pinned artifact instead of the (mutable) run metrics."""
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
    ctx = m.get("context_baseline") or {}
    if ctx.get("recall_at_capacity") is not None:      # the context-only baseline gate's input
        out["test_recall_at_capacity"] = float(ctx["recall_at_capacity"])
        out["context_recall_at_capacity"] = float(ctx["context_recall_at_capacity"])
        for side, key in (("estimate", ""), ("low", "_ci_low"), ("high", "_ci_high")):
            if ctx["difference"].get(side) is not None:
                out[f"recall_gain_over_context{key}"] = float(ctx["difference"][side])
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
    artifacts of docs/architecture.md ("Run contract") and the model
    (``mlflow.lightgbm.log_model``, float inputs with integer-coded categories, signature,
    input example, explicit pip requirements). All artifacts are serialized locally before
    anything is uploaded.

    Returns
    -------
    dict
        ``{"run_id", "model_uri", "artifacts"}``.
    """
    import lightgbm
    from mlflow.models import infer_signature

    store = as_store(store)
    client = _client(store)
    files: dict[str, Any] = {
        Artifact.MODEL_META: result.model_meta(),
        Artifact.EVALUATION: {**result.metrics, "threshold": result.threshold,
                              "split": result.split.to_dict()},
        Artifact.FEATURE_POLICY: result.policy,
        Artifact.TEST_PREDICTIONS: result.test,
        Artifact.TEST_FEATURES: result.test_features,
        Artifact.TRAINING: result.to_dict(),
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
                  "valid_cohort": result.split.valid,
                  "test_cohort": ",".join(map(str, result.split.test_cohorts
                                              or (result.split.test,))),
                  "monotone_families": ",".join(
                      f"{k}:{v}" for k, v in (getattr(result, "monotone", None) or {})
                      .get("families", {}).items() if v != "free") or "none",
                  **{f"lgb_{k}": (",".join(map(str, v)) if isinstance(v, list) else v)
                     for k, v in result.params.items()
                     if k not in ("verbosity", "metric", "objective")}}
        with _fluent(store) as mlflow, mlflow.start_run(run_id=run_id):
            mlflow.log_params({k: str(v) for k, v in params.items()})
            mlflow.log_metrics(flat_metrics(result.metrics))
            for ctx, df in (datasets or {}).items():
                with warnings.catch_warnings():  # a local folder matches two source types
                    warnings.filterwarnings("ignore", category=UserWarning,
                                            message="The specified dataset source")
                    ds = mlflow.data.from_pandas(df, source=data_dir,
                                                 name=f"{result.task}-{ctx}",
                                                 targets="label" if "label" in df else None)
                mlflow.log_input(ds, context=ctx, tags={Tag.DATA_FORM.value: str(data_form)})
            info = mlflow.lightgbm.log_model(
                result.booster, name=Artifact.MODEL.value, signature=signature,
                input_example=X_ex,
                pip_requirements=[f"lightgbm=={lightgbm.__version__}",
                                  f"numpy=={np.__version__}", f"pandas=={pd.__version__}"])
            client.log_artifacts(run_id, tmp)
            mlflow.set_tag(Tag.MODEL_URI.value, info.model_uri)
    return {"run_id": run_id, "model_uri": info.model_uri, "artifacts": sorted(map(str, files))}


@dataclass(frozen=True)
class RunBundle:
    """A finished training run read back through a :class:`RunReader`: its records and
    frames, with no mlflow needed by the caller. ``model`` (the LightGBM booster, returning
    calibrated probabilities on the encoded matrix; see :meth:`predict`) is loaded on first
    use; other artifacts come from :meth:`artifact` / :meth:`optional`, read once."""

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
    model_uri: str
    artifact_uri: str
    reader: RunReader = field(repr=False, compare=False)
    extra: dict = field(default_factory=dict)
    verified_model: Any = field(default=None, repr=False, compare=False)
    """A booster the caller loaded from bytes it checked (serving: the registered version's
    pinned model files); used instead of loading ``model_uri``."""

    @property
    def model(self) -> Any:
        if self.verified_model is not None:
            return self.verified_model
        return self.reader.model(self.model_uri)

    @property
    def features(self) -> list[str]:
        return list(self.model_meta["features"])

    @property
    def threshold(self) -> float:
        return float(self.model_meta["threshold"]["value"])

    @property
    def data_form(self) -> str | None:
        return self.tags.get(Tag.DATA_FORM)

    def artifact(self, path: str):
        """One artifact of the run, parsed (TrackingError if missing)."""
        return self.reader.artifact(self.run_id, path)

    def optional(self, path: str):
        """One artifact of the run, parsed, or ``None`` if the run has none."""
        return self.reader.optional(self.run_id, path)

    def log_artifacts(self, files: Mapping[str, Any]) -> list[str]:
        """Log ``files`` to the run (the cached copies they replace are dropped)."""
        return self.reader.log_artifacts(self.run_id, files)

    def encode(self, X: pd.DataFrame) -> pd.DataFrame:
        """Model input matrix (float64, integer-coded categories) from raw features: the
        encoding training used (:func:`cin_ml.models.encode`)."""
        from cin_ml.errors import DataError
        from cin_ml.models import encode

        try:
            return encode(X, self.model_meta.get("category_maps", {}), self.features)
        except DataError as exc:
            raise TrackingError(f"run {self.run_id}: {exc}") from None

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities for raw features."""
        return self.model.predict(self.encode(X))

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "experiment_id": self.experiment_id,
                "task": self.task, "status": self.status, "model_uri": self.model_uri,
                "artifact_uri": self.artifact_uri, "features": self.features,
                "threshold": self.threshold, "metrics": dict(sorted(self.metrics.items()))}


def read_bundle(reader: RunReader, run_id: str) -> RunBundle:
    """Read a finished training run through ``reader`` (use :meth:`RunReader.bundle`)."""
    run = reader.run(run_id)
    tags = dict(run.data.tags)
    if tags.get(Tag.KIND) != RunKind.TRAIN:
        raise TrackingError(f"run {run_id} is not a cin-ml training run "
                            f"(tag {Tag.KIND.value}={tags.get(Tag.KIND)!r})")
    if run.info.status != "FINISHED":
        raise TrackingError(f"run {run_id} is {run.info.status}, not FINISHED: its outputs "
                            f"may be incomplete; train again")
    parts = {a: reader.artifact(run_id, a) for a in (
        Artifact.MODEL_META, Artifact.EVALUATION, Artifact.FEATURE_POLICY,
        Artifact.TEST_PREDICTIONS, Artifact.TEST_FEATURES)}
    model_uri = tags.get(Tag.MODEL_URI) or f"runs:/{run_id}/{Artifact.MODEL.value}"
    return RunBundle(run_id, run.info.experiment_id, tags.get(Tag.TASK, ""),
                     run.info.status, tags, dict(run.data.params), dict(run.data.metrics),
                     parts[Artifact.MODEL_META], parts[Artifact.EVALUATION],
                     parts[Artifact.FEATURE_POLICY], parts[Artifact.TEST_PREDICTIONS],
                     parts[Artifact.TEST_FEATURES], model_uri, run.info.artifact_uri, reader)


def load_run_bundle(run_id: str, store: Store | str | RunReader | None = None, *,
                    model: Any = None) -> RunBundle:
    """Read a finished training run back (frames and dicts; the model on first use).

    ``store`` may be a :class:`RunReader` to share its cache with other reads; ``model`` a
    booster already loaded from checked bytes (serving), used as the bundle's model.

    Raises
    ------
    TrackingError
        Unknown run, a run that is not a finished training run, or a missing artifact.
    """
    reader = store if isinstance(store, RunReader) else RunReader(store)
    bundle = reader.bundle(run_id)
    return bundle if model is None else replace(bundle, verified_model=model)
