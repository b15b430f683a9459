"""Crash-safe governance actions: an intent event, the registry operations, a commit event.

Ordering of every mutating action (all under the governance lock):

1. **recover** — if the last history event is an intent (``X.started``) without its
   outcome, a previous process died mid-action: resolve it first (below);
2. validate and evaluate gates (refusals are recorded as ``X.refused``; nothing changes);
3. append the intent event ``X.started`` listing the exact registry operations;
4. apply the operations (each idempotent);
5. append the commit event ``X``.

Resolution of an interrupted intent depends on the action's ``mode``:

- ``forward`` (review, expiry, consent flags): the operations are re-applied and ``X`` is
  committed with ``recovered: true`` — withdrawing or recording a decision is always safe;
- ``atomic`` (register, promote, rollback: a single registry operation that is the commit
  point): if that operation took effect, ``X`` is committed (``recovered: true``); if not,
  ``X.aborted`` is appended and the registry is exactly as before.

So the registry is never half-promoted: the alias moves in one MLflow call, and the history
says what happened once the next governance action (or ``governance check``) has run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cin_ml.registry._history import Event, append_event, last_event
from cin_ml.registry._key import GovernanceKey
from cin_ml.run_contract import VersionTag

FAULT_ENV = "CIN_ML_FAULT"


def fault(point: str) -> None:
    """Test hook: the process dies here when ``$CIN_ML_FAULT`` names ``point``."""
    if os.environ.get(FAULT_ENV) == point:
        os._exit(75)


def _version_tags(client, model: str, version: str) -> dict:
    return dict(client.get_model_version(model, version).tags)


def _alias_version(client, model: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model, alias).version)
    except Exception:
        return None


def _find_created(client, model: str, intent_seq: int) -> str | None:
    for mv in client.search_model_versions(f"name = '{model}'"):
        if mv.tags.get(VersionTag.REGISTER_INTENT) == str(intent_seq):
            return str(mv.version)
    return None


def apply_op(client, op: Mapping[str, Any], intent_seq: int) -> str | None:
    """Apply one operation (idempotent); returns the created version for ``create``."""
    kind = op["op"]
    if kind == "set_tag":
        client.set_model_version_tag(op["model"], op["version"], op["key"], op["value"])
    elif kind == "set_alias":
        client.set_registered_model_alias(op["model"], op["alias"], op["version"])
    elif kind == "delete_alias":
        if _alias_version(client, op["model"], op["alias"]) is not None:
            client.delete_registered_model_alias(op["model"], op["alias"])
    elif kind == "delete_tag":
        if op["key"] in _version_tags(client, op["model"], op["version"]):
            client.delete_model_version_tag(op["model"], op["version"], op["key"])
    elif kind == "create":
        done = _find_created(client, op["model"], intent_seq)
        if done:
            return done
        mv = client.create_model_version(
            op["model"], op["source"], run_id=op["run_id"], model_id=op.get("model_id"),
            tags={**op["tags"], VersionTag.REGISTER_INTENT: str(intent_seq)})
        return str(mv.version)
    else:  # pragma: no cover - written by this module only
        raise ValueError(kind)
    return None


def op_done(client, op: Mapping[str, Any], intent_seq: int) -> bool:
    """Whether an operation's effect is already in the registry."""
    kind = op["op"]
    if kind == "set_tag":
        return _version_tags(client, op["model"], op["version"]).get(op["key"]) == op["value"]
    if kind == "set_alias":
        return _alias_version(client, op["model"], op["alias"]) == str(op["version"])
    if kind == "delete_alias":
        return _alias_version(client, op["model"], op["alias"]) is None
    if kind == "delete_tag":
        return op["key"] not in _version_tags(client, op["model"], op["version"])
    if kind == "create":
        return _find_created(client, op["model"], intent_seq) is not None
    raise ValueError(kind)  # pragma: no cover


def run_action(client, exp_id: str, type_: str, *, key: GovernanceKey, actor: str, why: str,
               model: str, version: str | None, ops: list[dict], mode: str,
               details: Mapping[str, Any] | None = None,
               commit_details: Mapping[str, Any] | None = None) -> tuple[Event, str | None]:
    """Steps 3–5 of the ordering above; returns the commit event and a created version."""
    # the commit's details ride in the intent, so a recovered commit records the same facts
    intent = append_event(client, exp_id, f"{type_}.started", key=key, actor=actor, why=why,
                          model=model, version=version,
                          details={**(details or {}), "ops": ops, "mode": mode,
                                   "commit": dict(commit_details or {})})
    fault(f"{type_}:after-intent")
    created = None
    for op in ops:
        created = apply_op(client, op, intent.seq) or created
        fault(f"{type_}:after-op")
    fault(f"{type_}:before-commit")
    ev = append_event(client, exp_id, type_, key=key, actor=actor, why=why, model=model,
                      version=created or version,
                      details={**(commit_details or {}), "intent": intent.seq})
    return ev, created


def recover(client, exp_id: str | None, key: GovernanceKey) -> Event | None:
    """Resolve an interrupted action (see module docstring). Call under the lock.

    Returns the resolving event, or ``None`` when nothing was pending.
    """
    if exp_id is None:
        return None
    last = last_event(client, exp_id, key)
    if last is None or not last.type.endswith(".started"):
        return None
    type_ = last.type.removesuffix(".started")
    ops = list(last.details.get("ops", []))
    mode = last.details.get("mode", "atomic")
    base = {**last.details.get("commit", {}), "intent": last.seq, "recovered": True}
    if mode == "forward":
        for op in ops:
            apply_op(client, op, last.seq)
        return append_event(client, exp_id, type_, key=key, actor=last.actor, why=last.why,
                            model=last.model, version=last.version, details=base)
    if all(op_done(client, op, last.seq) for op in ops):
        created = next((_find_created(client, op["model"], last.seq) for op in ops
                        if op["op"] == "create"), None)
        return append_event(client, exp_id, type_, key=key, actor=last.actor, why=last.why,
                            model=last.model, version=created or last.version, details=base)
    return append_event(client, exp_id, f"{type_}.aborted", key=key, actor=last.actor,
                        why="interrupted before taking effect; nothing changed",
                        model=last.model, version=last.version,
                        details={"intent": last.seq, "recovered": True})
