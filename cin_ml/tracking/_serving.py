"""Resolve a registered model reference (``NAME@ALIAS``) to the training run that serves it.

Scoring by role (``cin-ml predict``) reads the run through :func:`load_run_bundle`; this
module only answers "which run is ``NAME@champion`` today", with the version's tags so the
caller can apply its serving policy (e.g. refuse a version whose consent was flagged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cin_ml.errors import TrackingError
from cin_ml.tracking._store import Store, _client, as_store

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][\w.\-]*)@(?P<alias>[A-Za-z][\w\-]*)$")


@dataclass(frozen=True)
class ServedModel:
    """A registered model version reached through an alias."""

    name: str
    alias: str
    version: str
    run_id: str
    tags: dict = field(default_factory=dict)
    model: Any = field(default=None, repr=False, compare=False)
    """The booster the serving policy loaded from bytes it checked (``None`` until then)."""
    notes: tuple[str, ...] = ()
    """Plain lines the serving policy has for the user (e.g. model files not pinned)."""

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.alias}"

    def to_dict(self) -> dict:
        return {"name": self.name, "alias": self.alias, "version": self.version,
                "run_id": self.run_id}


def resolve_served_model(ref: str, store: Store | str | None = None) -> ServedModel:
    """The version and training run behind ``NAME@ALIAS``.

    Raises
    ------
    TrackingError
        Malformed reference, unknown model or alias, or a version with no source run.
    """
    m = _REF.match(ref or "")
    if m is None:
        raise TrackingError(f"--model {ref!r}: expected NAME@ALIAS, e.g. "
                            f"cin-ecriture-4e@champion")
    name, alias = m.group("name"), m.group("alias")
    store = as_store(store)
    client = _client(store)
    try:
        mv = client.get_model_version_by_alias(name, alias)
    except Exception:
        raise TrackingError(f"model {name!r} has no version under alias @{alias} in "
                            f"{store.tracking_uri} (promote one first)") from None
    if not mv.run_id:
        raise TrackingError(f"{name} v{mv.version} (@{alias}) has no source training run")
    return ServedModel(name, alias, str(mv.version), mv.run_id, dict(mv.tags or {}))
