"""Shared plumbing of the governance actions: the context, identities, versions, refusals."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from cin_ml.consent import ConsentRegistry, load_agreements
from cin_ml.errors import GateError, GovernanceError
from cin_ml.registry._history import EXPERIMENT, Event, append_event, read_events, verify_history
from cin_ml.registry._identity import check_identity, normalize_identity
from cin_ml.registry._key import GovernanceKey, resolve_governance_key
from cin_ml.registry._settings import GovernanceSettings, load_governance_settings
from cin_ml.registry._state import Replay, replay
from cin_ml.registry._store import (
    RegistryStore,
    ensure_experiment,
    governance_lock,
    registry_client,
    resolve_registry_store,
)
from cin_ml.registry._txn import recover
from cin_ml.run_contract import VersionTag
from cin_ml.tracking import RunReader

ALIASES = ("champion", "challenger")
LATEST = "latest"
"""What ``--version`` accepts besides a number: the model's highest version."""


@dataclass(frozen=True)
class Ctx:
    """Store, client, policy and agreements one action works with."""

    store: RegistryStore
    client: object
    settings: GovernanceSettings
    consent: ConsentRegistry
    today: dt.date
    demo_key: bool = False
    _key: list = field(default_factory=list, repr=False, compare=False)

    @property
    def key(self) -> GovernanceKey:
        """The governance key and anchor (resolved on first use: reading needs none)."""
        if not self._key:
            self._key.append(resolve_governance_key(self.store, demo=self.demo_key))
        return self._key[0]

    def events(self, exp_id: str | None, model: str | None = None) -> list[Event]:
        return read_events(self.client, exp_id, model)

    def replay(self, exp_id: str | None, model: str) -> Replay:
        """``model``'s registry as the history says it is (call under the lock, where the
        history was just verified)."""
        return replay(self.events(exp_id, model), model)

    @property
    def reader(self) -> RunReader:
        """A fresh run reader: its cache lives for one read of the evidence, so every
        action judges the run as it is now, however long this context lives."""
        return RunReader(self.store)

    def history_experiment(self, create: bool = True) -> str | None:
        if create:
            return ensure_experiment(self.client, EXPERIMENT, self.store)
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        return None if exp is None else exp.experiment_id

    @contextlib.contextmanager
    def locked(self) -> Iterator[str]:
        """Hold the governance lock, check the history (authenticated and anchored), resolve
        any interrupted action, yield the history id. A history that fails verification
        refuses every action: decisions are only taken from a history that holds."""
        key = self.key
        exp_id = self.history_experiment()
        with governance_lock(self.store, self.settings.lock.timeout_s,
                             self.settings.lock.stale_after_s):
            rep = verify_history(self.client, exp_id, key)
            if not rep.ok:
                raise GovernanceError("the governance history failed verification, so no "
                                      "governance action is taken: "
                                      + "; ".join(rep.problems[:5])
                                      + (f" (+{len(rep.problems) - 5} more)"
                                         if len(rep.problems) > 5 else "")
                                      + "; see `cin-ml history --verify`")
            recover(self.client, exp_id, key)
            yield exp_id

    def refuse(self, exp_id: str, type_: str, model: str, version: str | None, actor: str,
               reasons: list[str], gates: list[str] | None = None) -> None:
        """Record ``<type>.refused`` and raise (GateError when ``gates`` is given)."""
        append_event(self.client, exp_id, f"{type_}.refused", key=self.key, actor=actor,
                     why="; ".join(reasons), model=model, version=version,
                     details={"reasons": reasons, **({"failed_gates": gates} if gates else {})})
        where = f"{model} v{version}" if version else model
        msg = f"{type_} of {where} refused: " + "; ".join(reasons)
        if gates is not None:
            raise GateError(msg, failed_gates=gates)
        raise GovernanceError(msg)


def make_ctx(settings: GovernanceSettings | None = None, consent: ConsentRegistry | None = None,
             store: RegistryStore | str | None = None, today: dt.date | None = None,
             demo_key: bool = False) -> Ctx:
    """A :class:`Ctx` from explicit parts or the defaults (configs and default store).
    ``demo_key`` allows the public demo governance key when none is configured."""
    st = store if isinstance(store, RegistryStore) else resolve_registry_store(store)
    return Ctx(st, registry_client(st), settings or load_governance_settings(),
               consent if consent is not None else load_agreements(),
               today or dt.date.today(), demo_key)


def identity(explicit: str | None, settings: GovernanceSettings, role: str) -> str:
    """Who acts: ``explicit``, else ``$<identity_env>``; normalized (NFKC, case-folded) and
    limited to a safe ASCII set. Declared, not authenticated (docs/architecture.md,
    "Threat model")."""
    who = normalize_identity(explicit or os.environ.get(settings.governance.identity_env)
                             or "")
    if not who:
        raise GovernanceError(f"name the {role} with --{role} or "
                              f"${settings.governance.identity_env}")
    return check_identity(who, role)


def get_version(client, model: str, version: str | int):
    """The model version (a number, or ``latest``: the highest number), or GovernanceError
    naming the unknown model or version."""
    v = str(version).strip().lower()
    if not v.isdigit() and v != LATEST:
        raise GovernanceError(f"model {model}: version must be a number or '{LATEST}'; "
                              f"got {version!r}")
    try:
        rm = client.get_registered_model(model)
    except Exception:
        raise GovernanceError(f"unknown model '{model}'") from None
    if rm.tags.get(VersionTag.MANAGED) != "true":
        raise GovernanceError(f"model '{model}' is not managed by cin-ml (no cin.managed tag)")
    if v == LATEST:
        numbers = [int(mv.version) for mv in client.search_model_versions(f"name = '{model}'")]
        if not numbers:
            raise GovernanceError(f"model {model} has no version yet: register a run first")
        v = str(max(numbers))
    try:
        return client.get_model_version(model, v)
    except Exception:
        raise GovernanceError(f"model {model} has no version {v}") from None


def alias_version(client, model: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model, alias).version)
    except Exception:
        return None
