"""One reader of runs and their artifacts, with a per-run cache.

Every consumer of a run (cards, audits, explanations, serving, the registry's gates) reads
through a :class:`RunReader`: the run record is fetched once, each artifact is downloaded
once, and the model is loaded only when asked for. A reader lives as long as one command;
writes made through it (:meth:`RunReader.log_artifacts`) drop the cached copies they replace.
"""

from __future__ import annotations

import json
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pandas as pd

from cin_ml.errors import TrackingError
from cin_ml.tracking._store import Store, _client, as_store

_TEXT = (".md", ".html", ".txt", ".sha256")


def parse_artifact(path: str, raw: bytes):
    """An artifact's bytes as the object its suffix says: ``.json`` -> dict,
    ``.parquet``/``.csv`` -> DataFrame, text suffixes -> str, else bytes."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(raw.decode("utf-8"))
        if suffix == ".parquet":
            return pd.read_parquet(BytesIO(raw))
        if suffix == ".csv":
            return pd.read_csv(BytesIO(raw))
        if suffix in _TEXT:
            return raw.decode("utf-8")
    except (UnicodeDecodeError, ValueError) as exc:
        raise TrackingError(f"artifact '{path}' is not valid {suffix.lstrip('.')} "
                            f"({type(exc).__name__})") from None
    return raw


def download_location(store: Store, uri: str, dst: str | Path) -> Path:
    """Download the artifact (file or folder) at ``uri``, a location on ``store`` (a run's
    artifact path, a logged model's or a model version's location), into ``dst``."""
    from mlflow.artifacts import download_artifacts

    return Path(download_artifacts(artifact_uri=uri, dst_path=str(dst),
                                   tracking_uri=store.tracking_uri))


def load_local_model(path: str | Path) -> Any:
    """The LightGBM booster of a logged model's folder already on local disk (what
    :meth:`RunReader.model` loads after downloading it; serving loads the copy it checked)."""
    import mlflow.lightgbm

    return mlflow.lightgbm.load_model(str(path))


class RunReader:
    """Cached reads of runs on one store (see the module docstring).

    Parameters
    ----------
    store
        A :class:`Store`, a tracking URI, or ``None`` for the default store.
    """

    def __init__(self, store: Store | str | None = None):
        self.store = as_store(store)
        self.client = _client(self.store)
        self._runs: dict[str, Any] = {}
        self._raw: dict[tuple[str, str], bytes | None] = {}
        self._models: dict[str, Any] = {}
        self._bundles: dict[str, Any] = {}

    def run(self, run_id: str):
        """The MLflow run record (TrackingError naming the store if unknown)."""
        if run_id not in self._runs:
            try:
                self._runs[run_id] = self.client.get_run(run_id)
            except Exception:
                raise TrackingError(f"run '{run_id}' not found in "
                                    f"{self.store.tracking_uri}") from None
        return self._runs[run_id]

    def tags(self, run_id: str) -> dict[str, str]:
        return dict(self.run(run_id).data.tags)

    def raw(self, run_id: str, path: str) -> bytes | None:
        """Bytes of one artifact, or ``None`` when the run has no such file."""
        key = (run_id, path)
        if key not in self._raw:
            from mlflow.artifacts import download_artifacts

            # from the run's artifact root (known once the run is read): a ``runs:/`` URI
            # would make MLflow fetch the run again for every file
            uri = self.run(run_id).info.artifact_uri.rstrip("/") + "/" + path
            with tempfile.TemporaryDirectory(prefix="cin-dl-") as tmp:
                try:
                    local = Path(download_artifacts(artifact_uri=uri, dst_path=tmp,
                                                    tracking_uri=self.store.tracking_uri))
                except Exception:
                    local = None
                self._raw[key] = local.read_bytes() if local and local.is_file() else None
        return self._raw[key]

    def artifact(self, run_id: str, path: str):
        """One artifact, parsed (:func:`parse_artifact`); TrackingError if missing."""
        raw = self.raw(run_id, path)
        if raw is None:
            raise TrackingError(f"run {run_id}: artifact '{path}' not found")
        try:
            return parse_artifact(path, raw)
        except TrackingError as exc:
            raise TrackingError(f"run {run_id}: {exc}") from None

    def optional(self, run_id: str, path: str):
        """One artifact, parsed, or ``None`` when the run has no such file."""
        return None if self.raw(run_id, path) is None else self.artifact(run_id, path)

    def model(self, model_uri: str):
        """The LightGBM booster logged at ``model_uri`` (loaded once, from this store)."""
        if model_uri not in self._models:
            try:
                with tempfile.TemporaryDirectory(prefix="cin-model-") as tmp:
                    local = download_location(self.store, self.model_location(model_uri), tmp)
                    self._models[model_uri] = load_local_model(local)
            except Exception as exc:
                raise TrackingError(f"cannot load model {model_uri} from "
                                    f"{self.store.tracking_uri} ({type(exc).__name__})"
                                    ) from None
        return self._models[model_uri]

    def model_location(self, model_uri: str) -> str:
        """Where a logged model's files live, resolved on this store (``models:/m-...`` and
        ``runs:/RUN/PATH`` are otherwise resolved by MLflow on the global tracking URI)."""
        if model_uri.startswith("models:/m-"):
            model_id = model_uri.removeprefix("models:/").split("/")[0]
            return self.client.get_logged_model(model_id).artifact_location
        if model_uri.startswith("runs:/"):
            run_id, _, path = model_uri.removeprefix("runs:/").partition("/")
            return self.run(run_id).info.artifact_uri.rstrip("/") + "/" + path
        return model_uri

    def bundle(self, run_id: str):
        """The finished training run as a :class:`~cin_ml.tracking.RunBundle`."""
        if run_id not in self._bundles:
            from cin_ml.tracking._runs import read_bundle

            self._bundles[run_id] = read_bundle(self, run_id)
        return self._bundles[run_id]

    def log_artifacts(self, run_id: str, files) -> list[str]:
        """Log ``files`` to the run (:func:`cin_ml.tracking.log_artifacts`) and drop the
        cached copies they replace."""
        from cin_ml.tracking._artifacts import upload_artifacts

        run = self.run(run_id)  # known to exist: read once, like everything else
        logged = upload_artifacts(self.client, run_id, files,
                                  artifact_uri=run.info.artifact_uri,
                                  tracking_uri=self.store.tracking_uri)
        for path in logged:
            self._raw.pop((run_id, path), None)
        return logged

    def forget(self, run_id: str) -> None:
        """Drop everything cached about ``run_id`` (after a write made elsewhere)."""
        self._runs.pop(run_id, None)
        self._bundles.pop(run_id, None)
        for key in [k for k in self._raw if k[0] == run_id]:
            del self._raw[key]
