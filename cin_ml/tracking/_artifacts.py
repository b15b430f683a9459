"""Logging and reading run artifacts."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from cin_ml.errors import TrackingError
from cin_ml.tracking._store import Store, _client, as_store


def _check_path(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or ".." in p.parts or path.endswith("/"):
        raise TrackingError(f"artifact path {path!r} must be a relative file path "
                            f"without '..'")
    return p


def _write(dest: Path, obj: Any) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    suffix = dest.suffix.lower()
    if isinstance(obj, bytes):
        dest.write_bytes(obj)
    elif isinstance(obj, str):
        dest.write_text(obj, encoding="utf-8")
    elif isinstance(obj, Path):
        if not obj.is_file():
            raise TrackingError(f"artifact source file not found: {obj}")
        shutil.copyfile(obj, dest)
    elif isinstance(obj, dict | list):
        dest.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False,
                                   default=str) + "\n", encoding="utf-8")
    elif isinstance(obj, pd.DataFrame):
        if suffix == ".parquet":
            obj.to_parquet(dest, index=False)
        elif suffix == ".csv":
            from cin_ml.extract import write_csv

            write_csv(obj, dest)
        else:
            raise TrackingError(f"artifact {dest.name}: a DataFrame needs .parquet or .csv")
    elif hasattr(obj, "savefig"):
        obj.savefig(dest, format=suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
    else:
        raise TrackingError(f"artifact {dest.name}: cannot log a {type(obj).__name__} "
                            f"(bytes, str, dict, list, DataFrame, Figure or Path)")


def log_artifacts(run_id: str, files: Mapping[str, Any],
                  store: Store | str | None = None) -> list[str]:
    """Log a step's outputs to run ``run_id``.

    Parameters
    ----------
    run_id
        An existing run.
    files
        Artifact path inside the run (e.g. ``"fairness/audit.json"``) -> content: ``bytes``,
        ``str`` (UTF-8 text), ``dict``/``list`` (JSON, sorted keys), ``DataFrame``
        (``.parquet`` or ``.csv``), a matplotlib ``Figure`` (format from the suffix) or a
        ``Path`` to copy.
    store
        A :class:`Store` or tracking URI; the default store when ``None``.

    Returns
    -------
    list of str
        The artifact paths logged. Everything is serialized before the upload starts, so a
        bad item logs nothing.
    """
    client = _client(as_store(store))
    _get_run(client, run_id)
    return upload_artifacts(client, run_id, files)


def upload_artifacts(client, run_id: str, files: Mapping[str, Any], *,
                     artifact_uri: str | None = None,
                     tracking_uri: str | None = None) -> list[str]:
    """Serialize ``files`` locally, then upload them to a run known to exist (the body of
    :func:`log_artifacts`, for callers that already hold the run). With ``artifact_uri``
    (the run's artifact root, as read), upload there directly: MLflow's client otherwise
    reuses, for the whole process, the artifact location it first saw for that run id."""
    paths = {name: _check_path(name) for name in files}
    with tempfile.TemporaryDirectory(prefix="cin-artifacts-") as tmp:
        for name, obj in files.items():
            _write(Path(tmp, *paths[name].parts), obj)
        try:
            if artifact_uri:
                from mlflow.store.artifact.artifact_repository_registry import (
                    get_artifact_repository,
                )

                get_artifact_repository(artifact_uri, tracking_uri=tracking_uri).log_artifacts(
                    tmp)
                return sorted(files)
            client.log_artifacts(run_id, tmp)
        except Exception as exc:
            raise TrackingError(f"run {run_id}: could not log artifacts "
                                f"({type(exc).__name__}: {exc})") from None
    return sorted(files)


def log_metrics(run_id: str, metrics: Mapping[str, float],
                store: Store | str | None = None) -> list[str]:
    """Log numeric metrics (name -> value) to run ``run_id``; non-finite values are skipped.

    Returns the metric names logged.
    """
    import math

    client = _client(as_store(store))
    _get_run(client, run_id)
    done = []
    for name, value in sorted(metrics.items()):
        if value is not None and math.isfinite(float(value)):
            client.log_metric(run_id, name, float(value))
            done.append(name)
    return done


def _get_run(client, run_id: str):
    try:
        return client.get_run(run_id)
    except Exception:
        raise TrackingError(f"run '{run_id}' not found in {client.tracking_uri}") from None


def list_artifacts(run_id: str, path: str | None = None, store: Store | str | None = None
                   ) -> list[str]:
    """Artifact file paths of a run (recursively, under ``path``)."""
    client = _client(as_store(store))
    _get_run(client, run_id)
    out, todo = [], [path]
    while todo:
        for f in client.list_artifacts(run_id, todo.pop()):
            (todo if f.is_dir else out).append(f.path)
    return sorted(out)


def load_artifact(run_id: str, path: str, store: Store | str | None = None):
    """One artifact of a run: ``.json`` -> dict, ``.parquet``/``.csv`` -> DataFrame,
    ``.md``/``.html``/``.txt``/``.sha256`` -> str, else bytes. For several reads of one run,
    use a :class:`~cin_ml.tracking.RunReader` (it caches)."""
    from cin_ml.tracking._reader import RunReader

    _check_path(path)
    return RunReader(store).artifact(run_id, path)
