"""The model files of a registered version, pinned by SHA-256 at registration.

A version serves the model folder the registry points to
(``MlflowClient.get_model_version_download_uri``: the logged model's folder), which lives in
the task experiment, outside the run's pinned evidence: anyone with EDIT on that experiment
(team server) or write access to the embedded store's artifact folder can overwrite, add or
delete its files (``MLmodel``, ``model.lgb``, requirements...). ``register`` therefore hashes
every file of that folder, listed recursively, writes the digests to the run as
:attr:`~cin_ml.run_contract.Artifact.MODEL_FILES` (``{"model/MLmodel": sha256, ...}``) and
pins that manifest's own SHA-256 in the version's evidence record
(:attr:`~cin_ml.run_contract.VersionTag.EVIDENCE`): one entry in the history instead of one
per file, so the ``register`` event stays under the history's size cap. The ``card`` gate,
``review``, ``governance check`` and serving compare what the registry's location holds now
with the manifest (itself checked against its pin); serving loads the very local copy whose
bytes it hashed (no time-of-check to time-of-use gap). Versions registered before model
pinning have no manifest pin: :func:`unpinned_line` says so (docs/architecture.md, "Threat
model").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cin_ml.run_contract import Artifact
from cin_ml.tracking import download_location

MANIFEST = Artifact.MODEL_FILES.value


@dataclass(frozen=True)
class ModelCheck:
    """The files a version's model location holds now, judged against its pins."""

    pinned: bool
    """False for a version registered before model pinning (nothing to compare with)."""
    problems: tuple[str, ...] = ()
    """One clause per file changed, added or removed (or a manifest that changed)."""
    n_files: int = 0


MLFLOW_LOAD_MARKER = "registered_model_meta"
"""The file MLflow itself writes at the root of a model folder whenever it is downloaded
through a ``models:/`` URI (``ModelsArtifactRepository``: the version's name and number).
On the embedded store that folder *is* the store's own folder, so a stock
``mlflow.pyfunc.load_model("models:/<name>@champion")`` adds the file to the registered
model (measured: the README's stock load did, and serving then refused the champion). It
holds no model bytes and nothing cin-ml loads reads it, so it is not pinned."""


def hash_tree(root: Path) -> dict[str, str]:
    """``{"model/<relpath>": sha256}`` of every file under ``root`` (a downloaded model
    folder), relative paths in POSIX form; MLflow's own load marker
    (:data:`MLFLOW_LOAD_MARKER`, at the root) left out."""
    return {Artifact.model_file(f.relative_to(root).as_posix()):
            hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*"))
            if f.is_file() and f.relative_to(root).as_posix() != MLFLOW_LOAD_MARKER}


@contextlib.contextmanager
def model_copy(store, location: str) -> Iterator[tuple[Path | None, dict[str, str]]]:
    """A local copy of the model folder at ``location`` and the digests of its files, for
    the block (``(None, {})`` when nothing can be downloaded: every pinned file is then
    reported removed). Load the model from this copy, never from ``location`` again."""
    with tempfile.TemporaryDirectory(prefix="cin-model-pin-") as tmp:
        try:
            local = download_location(store, location, tmp)
        except Exception:
            local = None
        if local is not None and not local.is_dir():
            local = None
        yield local, (hash_tree(local) if local is not None else {})


def version_location(client, model: str, version: str | int) -> str:
    """Where the registry says the version's model files are (its source of truth)."""
    return client.get_model_version_download_uri(model, str(version))


def pin_model_files(reader, store, model_uri: str) -> tuple[dict[str, str], str | None]:
    """At registration: the digests of every file of the logged model ``model_uri``, read
    where the new version will point (the logged model's folder), and a problem line when
    there is nothing to pin."""
    try:
        location = reader.model_location(model_uri)
    except Exception:  # an unknown logged model: nothing to download below
        location = model_uri
    with model_copy(store, location) as (_, files):
        pass
    return files, (None if files else f"the model files cannot be read at {location}")


def write_manifest(reader, run_id: str, files: Mapping[str, str]) -> dict[str, str]:
    """At registration: log the model files' digests to the run (:data:`MANIFEST`,
    canonical JSON) and return the evidence entry that pins it, ``{MANIFEST: sha256}``."""
    raw = json.dumps(dict(files), sort_keys=True, separators=(",", ":")).encode("utf-8")
    reader.log_artifacts(run_id, {MANIFEST: raw})
    return {MANIFEST: hashlib.sha256(raw).hexdigest()}


def model_pins(reader, run_id: str,
               pinned: Mapping[str, str | None] | None) -> tuple[dict | None, str | None]:
    """The version's model pins: ``(None, None)`` for a version registered before model
    pinning, ``(pins, None)`` when the run's manifest has the bytes pinned at registration,
    ``({}, problem)`` otherwise."""
    want = (pinned or {}).get(MANIFEST)
    if not want:
        return None, None
    raw = reader.raw(run_id, MANIFEST)
    if raw is None:
        return {}, f"{MANIFEST} (the model files' digests) removed since registration"
    if hashlib.sha256(raw).hexdigest() != want:
        return {}, f"{MANIFEST} (the model files' digests) changed since registration"
    try:
        pins = json.loads(raw)
    except ValueError:
        pins = None
    if not isinstance(pins, dict):
        return {}, f"{MANIFEST} is not a digest list"
    return pins, None


def model_changes(pins: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """One clause per model file changed, added or removed since registration."""
    out = []
    for path in sorted(set(pins) | set(current)):
        was, now = pins.get(path), current.get(path)
        if was != now:
            state = "removed" if now is None else ("added" if was is None else "changed")
            out.append(f"model file {path} {state} since registration")
    return out


def judge(reader, run_id: str, pinned: Mapping | None,
          current: Mapping[str, str]) -> ModelCheck:
    """Compare the digests ``current`` (a fresh copy of the version's model folder) with
    the pins of registration."""
    pins, problem = model_pins(reader, run_id, pinned)
    if pins is None:
        return ModelCheck(pinned=False)
    problems = [problem] if problem else model_changes(pins, current)
    return ModelCheck(pinned=True, problems=tuple(problems), n_files=len(pins))


def check_model(ctx, reader, model: str, version: str | int, run_id: str,
                pinned: Mapping | None) -> ModelCheck:
    """Download the version's model folder from where the registry points and judge it."""
    with model_copy(ctx.store, version_location(ctx.client, model, version)) as (_, files):
        return judge(reader, run_id, pinned, files)


def unpinned_line(model: str, version: str | int) -> str:
    """The plain line for a version whose model files were not pinned at registration."""
    return (f"{model} v{version}: its model files are not pinned (registered before cin-ml "
            f"pinned them), so their bytes cannot be checked; retrain and register a new "
            f"version to promote it")
