"""The append-only, hash-chained governance history.

MLflow keeps no history of tag and alias changes, so every governance event is one run in
the ``cin-governance`` experiment of the same store. The event is a canonical JSON object
(``seq``, ``type``, ``model``, ``version``, ``actor``, ``at``, ``why``, ``details``,
``prev_hash``, ``key_id``) stored whole in the run tag ``cin.event.json`` and created in one
call with the run; its HMAC-SHA-256 under the governance key (``cin.event.hash``, see
:mod:`._key`) covers the JSON, which includes the previous event's MAC. Without the key
nobody can edit, forge or re-chain an event. The chain's end is anchored **outside the
store** in the key's anchor file (``seq`` + MAC), so deleting the last events is detected
even when the in-store experiment tag ``cin.history.head`` (a cache) is moved too.

Appends happen under the governance lock (:func:`~cin_ml.registry._store.governance_lock`),
so the chain never forks. :func:`verify_history` recomputes every MAC and link and compares
the chain's end with the anchor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cin_ml.errors import GovernanceError
from cin_ml.registry._key import GovernanceKey

EXPERIMENT = "cin-governance"
GENESIS = "0" * 64
HEAD_TAG = "cin.history.head"
_MAX_JSON = 7900  # MLflow truncates run tag values at 8000 characters


def canonical(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8 kept) used for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    """One governance event, as recorded."""

    seq: int
    type: str
    model: str | None
    version: str | None
    actor: str
    at: str
    why: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str
    run_id: str | None = None

    def body(self) -> dict:
        return {"seq": self.seq, "type": self.type, "model": self.model,
                "version": self.version, "actor": self.actor, "at": self.at,
                "why": self.why, "details": dict(self.details), "prev_hash": self.prev_hash}

    def to_dict(self) -> dict:
        return {**self.body(), "hash": self.hash, "run_id": self.run_id}


@dataclass(frozen=True)
class VerifyReport:
    """Result of :func:`verify_history`: ``ok`` when no event was edited or removed."""

    n_events: int
    head: str | None
    problems: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "n_events": self.n_events, "head": self.head,
                "problems": list(self.problems), "notes": list(self.notes)}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _parse_head(value: str | None) -> tuple[int, str]:
    if not value:
        return 0, GENESIS
    seq, _, h = value.partition(":")
    return int(seq), h


def _event_from_run(run, key: GovernanceKey | None = None) -> Event:
    """The event a run records; its ``hash`` is the MAC recomputed under ``key`` (the MAC
    the run claims when no key is given: reading the history needs no key, verifying does)."""
    tags = run.data.tags
    text = tags["cin.event.json"]
    body = json.loads(text)
    mac = key.mac(text) if key is not None else tags.get("cin.event.hash", "")
    return Event(body["seq"], body["type"], body["model"], body["version"], body["actor"],
                 body["at"], body["why"], body["details"], body["prev_hash"], mac,
                 run.info.run_id)


def _find_seq(client, exp_id: str, seq: int):
    from mlflow.entities import ViewType

    runs = client.search_runs([exp_id], f"tags.`cin.event.seq` = '{seq:08d}'",
                              run_view_type=ViewType.ALL, max_results=10)
    return list(runs)


def _head(client, exp_id: str, key: GovernanceKey) -> tuple[int, str]:
    """The anchored head ``(seq, mac)``: the anchor file outside the store, which is the
    authority; the in-store tag only for a chain that never had an anchor (empty)."""
    anchored = key.anchor.read()
    if anchored is not None:
        return anchored
    return 0, GENESIS


def _adopt(client, exp_id: str, key: GovernanceKey) -> tuple[int, str, Event | None]:
    """Head ``(seq, mac, event)``, first anchoring any event appended (and authenticated
    with the key) by a process that died before moving the anchor."""
    head_seq, head_hash = _head(client, exp_id, key)
    head_ev = None
    while True:
        nxt = _find_seq(client, exp_id, head_seq + 1)
        if not nxt:
            break
        run = nxt[0]
        ev = _event_from_run(run, key)
        if ev.prev_hash != head_hash or run.data.tags.get("cin.event.hash") != ev.hash:
            raise GovernanceError(f"governance history is inconsistent at event #{ev.seq}: "
                                  f"run `cin-ml history --verify`")
        head_seq, head_hash, head_ev = ev.seq, ev.hash, ev
        _anchor(client, exp_id, key, head_seq, head_hash)
    return head_seq, head_hash, head_ev


def _anchor(client, exp_id: str, key: GovernanceKey, seq: int, mac: str) -> None:
    key.anchor.write(seq, mac, key.key_id)
    with contextlib.suppress(Exception):  # a cache for readers of the store; not trusted
        client.set_experiment_tag(exp_id, HEAD_TAG, f"{seq}:{mac}")


def last_event(client, exp_id: str, key: GovernanceKey) -> Event | None:
    """The last event of the chain (``None`` when empty). Call under the governance lock."""
    head_seq, _, ev = _adopt(client, exp_id, key)
    if ev is not None or head_seq == 0:
        return ev
    runs = _find_seq(client, exp_id, head_seq)
    return _event_from_run(runs[0], key) if runs else None


def append_event(client, exp_id: str, type_: str, *, key: GovernanceKey, actor: str,
                 why: str = "", model: str | None = None, version: str | int | None = None,
                 details: Mapping[str, Any] | None = None) -> Event:
    """Append one authenticated event at the end of the chain. Call under the lock."""
    head_seq, head_hash, _ = _adopt(client, exp_id, key)
    body = {"seq": head_seq + 1, "type": type_, "model": model,
            "version": None if version is None else str(version), "actor": actor,
            "at": _now(), "why": why, "details": dict(details or {}), "prev_hash": head_hash,
            "key_id": key.key_id}
    text = canonical(body)
    if len(text) > _MAX_JSON:
        raise GovernanceError(f"{type_} event for {model} v{version} is too long to record "
                              f"({len(text)} characters); shorten the comment or conditions")
    digest = key.mac(text)
    tags = {"cin.kind": "governance", "cin.event.seq": f"{body['seq']:08d}",
            "cin.event.type": type_, "cin.event.model": model or "",
            "cin.event.version": body["version"] or "", "cin.event.actor": actor,
            "cin.event.json": text, "cin.event.hash": digest,
            "cin.event.prev_hash": head_hash, "cin.event.key_id": key.key_id}
    run = client.create_run(exp_id, tags=tags, run_name=f"{body['seq']:06d} {type_}")
    _anchor(client, exp_id, key, body["seq"], digest)
    with contextlib.suppress(Exception):  # the event is recorded; the status is cosmetic
        client.set_terminated(run.info.run_id, "FINISHED")
    body.pop("key_id")
    return Event(**body, hash=digest, run_id=run.info.run_id)


def _all_runs(client, exp_id: str) -> list:
    from mlflow.entities import ViewType

    out, token = [], None
    while True:
        page = client.search_runs([exp_id], "tags.`cin.kind` = 'governance'",
                                  run_view_type=ViewType.ALL, max_results=5000,
                                  page_token=token)
        out.extend(page)
        token = page.token
        if not token:
            return out


def read_events(client, exp_id: str | None, model: str | None = None) -> list[Event]:
    """Events in chain order (``model`` keeps that model's events only). Not verified:
    decisions are taken only from a history that :func:`verify_history` accepts."""
    if exp_id is None:
        return []
    events = []
    for run in _all_runs(client, exp_id):
        if run.info.lifecycle_stage == "deleted":
            continue  # reported by verify_history
        try:
            ev = _event_from_run(run)
        except (KeyError, ValueError, TypeError):
            continue  # unreadable events are reported by verify_history
        events.append(ev)
    events.sort(key=lambda e: e.seq)
    return [e for e in events if model is None or e.model == model]


def verify_history(client, exp_id: str | None, key: GovernanceKey) -> VerifyReport:
    """Recompute every MAC and link of the chain under ``key``, and compare the chain's end
    with the anchor kept outside the store."""
    anchored = key.anchor.read()
    if exp_id is None:
        if anchored is not None and anchored[0] > 0:
            return VerifyReport(0, None, (
                f"the governance history is gone: the anchor {key.anchor.path} names event "
                f"#{anchored[0]} but the store has no cin-governance experiment",))
        return VerifyReport(0, None, (), ("no governance history in this store yet",))
    problems: list[str] = []
    notes: list[str] = []
    by_seq: dict[int, tuple[Event, Any]] = {}
    for run in _all_runs(client, exp_id):
        tags = run.data.tags
        rid = run.info.run_id
        try:
            ev = _event_from_run(run, key)
            body = json.loads(tags["cin.event.json"])
        except (KeyError, ValueError, TypeError):
            problems.append(f"run {rid}: event record unreadable (edited)")
            continue
        if tags.get("cin.event.hash") != ev.hash:
            if body.get("key_id") not in (None, key.key_id):
                problems.append(f"event #{ev.seq} ({ev.type}) was authenticated with another "
                                f"governance key ({body.get('key_id')}; this key is "
                                f"{key.key_id})")
            elif body.get("key_id") is None:
                problems.append(f"event #{ev.seq} ({ev.type}) is not authenticated by a "
                                f"governance key (recorded before keys, or forged)")
            else:
                problems.append(f"event #{ev.seq} ({ev.type}): content does not match its "
                                f"MAC (edited or forged without the governance key)")
        for k, val in (("seq", f"{ev.seq:08d}"), ("type", ev.type),
                       ("model", ev.model or ""), ("version", ev.version or ""),
                       ("actor", ev.actor)):
            if tags.get(f"cin.event.{k}") != val:
                problems.append(f"event #{ev.seq}: tag cin.event.{k} was changed "
                                f"({tags.get(f'cin.event.{k}')!r} ≠ {val!r})")
        if run.info.lifecycle_stage == "deleted":
            problems.append(f"event #{ev.seq} ({ev.type}) was deleted")
        if ev.seq in by_seq:
            problems.append(f"event #{ev.seq} appears twice (forked history)")
        by_seq[ev.seq] = (ev, run)
    prev_hash, last = GENESIS, 0
    for seq in sorted(by_seq):
        ev = by_seq[seq][0]
        if seq != last + 1:
            gap = f"#{last + 1}" if seq == last + 2 else f"#{last + 1}–#{seq - 1}"
            problems.append(f"event(s) {gap} removed")
            prev_hash = None
        if prev_hash is not None and ev.prev_hash != prev_hash:
            problems.append(f"event #{seq} ({ev.type}) does not link to event #{seq - 1} "
                            f"(an earlier event was edited or replaced)")
        prev_hash, last = ev.hash, seq
    where = "the head anchor"
    if anchored is None:
        head_seq, head_hash = 0, GENESIS
        if last:
            problems.append(f"no head anchor for this store ({key.anchor.path} is missing): "
                            f"the end of the chain (#{last}) cannot be checked")
    else:
        head_seq, head_hash = anchored
        if head_seq > last:
            problems.append(f"event(s) #{last + 1}–#{head_seq} removed ({where} is at "
                            f"#{head_seq})" if head_seq > last + 1 else
                            f"event #{head_seq} removed ({where} is at #{head_seq})")
        elif head_seq and by_seq.get(head_seq, (None,))[0] is not None and \
                by_seq[head_seq][0].hash != head_hash:
            problems.append(f"event #{head_seq} does not match {where} (the chain was "
                            f"rewritten or replaced)")
        elif head_seq < last:
            if head_seq + 1 == last:
                notes.append(f"event #{last} not yet anchored (an append was interrupted); "
                             f"the next governance action anchors it")
            else:
                problems.append(f"events #{head_seq + 1}–#{last} are beyond {where} (at "
                                f"#{head_seq}): appended without moving the anchor")
    return VerifyReport(len(by_seq), f"{head_seq}:{head_hash}" if head_seq else None,
                        tuple(problems), tuple(notes))
