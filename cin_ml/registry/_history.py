"""The append-only, hash-chained governance history.

MLflow keeps no history of tag and alias changes, so every governance event is one run in
the ``cin-governance`` experiment of the same store. The event is a canonical JSON object
(``seq``, ``type``, ``model``, ``version``, ``actor``, ``at``, ``why``, ``details``,
``prev_hash``) stored whole in the run tag ``cin.event.json`` and created in one call with
the run; its SHA-256 (``cin.event.hash``) covers the JSON, which includes the previous
event's hash. The experiment tag ``cin.history.head`` (``seq:hash``) anchors the chain's end,
so removing the last events is detected too.

Appends happen under the governance lock (:func:`~cin_ml.registry._store.governance_lock`),
so the chain never forks. :func:`verify_history` recomputes every hash and link.
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


def _event_from_run(run) -> Event:
    tags = run.data.tags
    body = json.loads(tags["cin.event.json"])
    return Event(body["seq"], body["type"], body["model"], body["version"], body["actor"],
                 body["at"], body["why"], body["details"], body["prev_hash"],
                 sha256_text(tags["cin.event.json"]), run.info.run_id)


def _find_seq(client, exp_id: str, seq: int):
    from mlflow.entities import ViewType

    runs = client.search_runs([exp_id], f"tags.`cin.event.seq` = '{seq:08d}'",
                              run_view_type=ViewType.ALL, max_results=10)
    return list(runs)


def _adopt(client, exp_id: str) -> tuple[int, str, Event | None]:
    """Head ``(seq, hash, event)``, first anchoring any event appended by a process that
    died before moving the anchor."""
    head_seq, head_hash = _parse_head(client.get_experiment(exp_id).tags.get(HEAD_TAG))
    head_ev = None
    while True:
        nxt = _find_seq(client, exp_id, head_seq + 1)
        if not nxt:
            break
        ev = _event_from_run(nxt[0])
        if ev.prev_hash != head_hash:
            raise GovernanceError(f"governance history is inconsistent at event #{ev.seq}: "
                                  f"run `cin-ml history --verify`")
        head_seq, head_hash, head_ev = ev.seq, ev.hash, ev
        client.set_experiment_tag(exp_id, HEAD_TAG, f"{head_seq}:{head_hash}")
    return head_seq, head_hash, head_ev


def last_event(client, exp_id: str) -> Event | None:
    """The last event of the chain (``None`` when empty). Call under the governance lock."""
    head_seq, _, ev = _adopt(client, exp_id)
    if ev is not None or head_seq == 0:
        return ev
    runs = _find_seq(client, exp_id, head_seq)
    return _event_from_run(runs[0]) if runs else None


def append_event(client, exp_id: str, type_: str, *, actor: str, why: str = "",
                 model: str | None = None, version: str | int | None = None,
                 details: Mapping[str, Any] | None = None) -> Event:
    """Append one event at the end of the chain. Call under the governance lock."""
    head_seq, head_hash, _ = _adopt(client, exp_id)
    body = {"seq": head_seq + 1, "type": type_, "model": model,
            "version": None if version is None else str(version), "actor": actor,
            "at": _now(), "why": why, "details": dict(details or {}), "prev_hash": head_hash}
    text = canonical(body)
    if len(text) > _MAX_JSON:
        raise GovernanceError(f"{type_} event for {model} v{version} is too long to record "
                              f"({len(text)} characters); shorten the comment or conditions")
    digest = sha256_text(text)
    tags = {"cin.kind": "governance", "cin.event.seq": f"{body['seq']:08d}",
            "cin.event.type": type_, "cin.event.model": model or "",
            "cin.event.version": body["version"] or "", "cin.event.actor": actor,
            "cin.event.json": text, "cin.event.hash": digest,
            "cin.event.prev_hash": head_hash}
    run = client.create_run(exp_id, tags=tags, run_name=f"{body['seq']:06d} {type_}")
    client.set_experiment_tag(exp_id, HEAD_TAG, f"{body['seq']}:{digest}")
    with contextlib.suppress(Exception):  # the event is recorded; the status is cosmetic
        client.set_terminated(run.info.run_id, "FINISHED")
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
    """Events in chain order (``model`` keeps that model's events only)."""
    if exp_id is None:
        return []
    events = []
    for run in _all_runs(client, exp_id):
        try:
            ev = _event_from_run(run)
        except (KeyError, ValueError, TypeError):
            continue  # unreadable events are reported by verify_history
        events.append(ev)
    events.sort(key=lambda e: e.seq)
    return [e for e in events if model is None or e.model == model]


def verify_history(client, exp_id: str | None) -> VerifyReport:
    """Recompute every hash and link of the chain, and check it against the head anchor."""
    if exp_id is None:
        return VerifyReport(0, None, (), ("no governance history in this store yet",))
    problems: list[str] = []
    notes: list[str] = []
    by_seq: dict[int, tuple[Event, Any]] = {}
    for run in _all_runs(client, exp_id):
        tags = run.data.tags
        rid = run.info.run_id
        try:
            ev = _event_from_run(run)
        except (KeyError, ValueError, TypeError):
            problems.append(f"run {rid}: event record unreadable (edited)")
            continue
        if tags.get("cin.event.hash") != ev.hash:
            problems.append(f"event #{ev.seq} ({ev.type}): content does not match its hash "
                            f"(edited)")
        for key, val in (("seq", f"{ev.seq:08d}"), ("type", ev.type),
                         ("model", ev.model or ""), ("version", ev.version or ""),
                         ("actor", ev.actor)):
            if tags.get(f"cin.event.{key}") != val:
                problems.append(f"event #{ev.seq}: tag cin.event.{key} was changed "
                                f"({tags.get(f'cin.event.{key}')!r} ≠ {val!r})")
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
    head_seq, head_hash = _parse_head(client.get_experiment(exp_id).tags.get(HEAD_TAG))
    if head_seq > last:
        problems.append(f"event(s) #{last + 1}–#{head_seq} removed (the head anchor is at "
                        f"#{head_seq})" if head_seq > last + 1 else
                        f"event #{head_seq} removed (the head anchor is at #{head_seq})")
    elif head_seq == last and last and head_hash != prev_hash:
        problems.append(f"event #{last} does not match the head anchor (edited or replaced)")
    elif head_seq < last:
        notes.append(f"event(s) after #{head_seq} not yet anchored (an append was "
                     f"interrupted); the next governance action anchors them")
    return VerifyReport(len(by_seq), f"{head_seq}:{head_hash}" if head_seq else None,
                        tuple(problems), tuple(notes))
