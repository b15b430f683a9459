"""What the ethics committee reads before deciding: the review queue and one version's
record, both taken from the governance history (verified), never from the live tags alone.

Read-only: nothing here writes to the store or the history. The web review page
(:mod:`cin_ml.review_app`) and any other reader get the same facts the gates use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cin_ml.errors import GovernanceError, TrackingError
from cin_ml.registry._context import Ctx
from cin_ml.registry._evidence import read_evidence
from cin_ml.registry._gates import evidence_changes, pinned_evidence, review_record
from cin_ml.registry._history import Event, verify_history
from cin_ml.registry._model_files import check_model
from cin_ml.registry._state import Replay, replay, tag_disagreements
from cin_ml.run_contract import Artifact, VersionTag

QUEUE_STATES = ("pending", "breached", "approved", "rejected", "expired")
"""The states a version is listed under (in this order); ``breached``: a monitored
condition of its approval failed, it awaits a new review."""


def _state(tags: Mapping[str, str], today: str) -> tuple[str, str | None]:
    """Display state and expiry: an approval past its date is ``expired`` even before
    ``cin-ml governance check`` records it."""
    state = tags.get(VersionTag.REVIEW_STATE) or "pending"
    rec = review_record(tags) or {}
    expires = tags.get(VersionTag.REVIEW_EXPIRES) or rec.get("expires") or None
    if state == "approved" and expires and expires < today:
        state = "expired"
    return (state if state in QUEUE_STATES else "pending"), expires


def _fails(tags: Mapping[str, str]) -> list[str]:
    return [f for f in tags.get(VersionTag.FAIRNESS_FAILS, "").split(",") if f]


def _registered_at(events: list[Event], version: str) -> str | None:
    return next((e.at for e in events if e.type == "register" and e.version == version), None)


def _row(rp: Replay, events: list[Event], v: str, today: str) -> dict[str, Any]:
    tags = rp.tags[v]
    state, expires = _state(tags, today)
    rec = review_record(tags) or {}
    return {"version": v, "state": state, "expires": expires,
            "reviewer": rec.get("reviewer"), "reviewed_at": rec.get("at"),
            "author": tags.get(VersionTag.AUTHOR), "run_id": tags.get(VersionTag.RUN_ID),
            "fairness_worst": tags.get(VersionTag.FAIRNESS_WORST) or "none",
            "fairness_fails": _fails(tags),
            "accepted_fairness": list(rec.get("accepted_fairness") or []),
            "aliases": sorted(a for a, x in rp.aliases.items() if x == v),
            "registered_at": _registered_at(events, v)}


def _history(ctx: Ctx) -> tuple[str | None, list[Event], list[str] | None]:
    """The history's events and its verification problems (``None``: not verified here,
    because this process holds no governance key, as a team server's users do not)."""
    exp_id = ctx.history_experiment(create=False)
    try:
        key = ctx.key
    except GovernanceError:
        return exp_id, ctx.events(exp_id), None
    return exp_id, ctx.events(exp_id), list(verify_history(ctx.client, exp_id, key).problems)


def review_queue(ctx: Ctx) -> dict[str, Any]:
    """Every registered version of every cin-ml model, grouped by model then state.

    Returns ``{"models": [{"model", "task", "champion", "challenger", "counts": {state: n},
    "versions": {state: [row, ...]}}], "history_problems": [...]}``; a row has ``version``,
    ``state``, ``expires``, ``reviewer``, ``author``, ``fairness_worst``,
    ``fairness_fails``, ``aliases`` and ``registered_at`` (newest version first).
    """
    _, events, problems = _history(ctx)
    today = ctx.today.isoformat()
    out = []
    for model in sorted({e.model for e in events if e.model}):
        mine = [e for e in events if e.model == model]
        rp = replay(mine, model)
        if not rp.tags:
            continue
        groups: dict[str, list[dict]] = {s: [] for s in QUEUE_STATES}
        for v in sorted(rp.tags, key=int, reverse=True):
            row = _row(rp, mine, v, today)
            groups[row["state"]].append(row)
        task = next((t.get(VersionTag.TASK) for t in rp.tags.values()
                     if t.get(VersionTag.TASK)), None)
        out.append({"model": model, "task": task, "champion": rp.aliases.get("champion"),
                    "challenger": rp.aliases.get("challenger"),
                    "counts": {s: len(rows) for s, rows in groups.items()},
                    "versions": groups})
    return {"models": out, "history_problems": problems}


def _artifact(reader, run_id: str, path: str) -> dict | None:
    try:
        found = reader.optional(run_id, path)
    except TrackingError:
        return None
    return found if isinstance(found, dict) else None


def version_record(ctx: Ctx, model: str, version: str | int) -> dict[str, Any]:
    """One version as the committee reviews it: its history-replayed state and review, the
    card hash pinned at registration and whether the run's card and evidence still match it,
    the evaluation metrics and fairness audit (as logged), the consent scope, its governance
    events (refusals included) and the current champion.

    Raises GovernanceError for a model or version cin-ml never registered.
    """
    v = str(version).strip()
    if not v.isdigit():
        raise GovernanceError(f"model {model}: version must be a number; got {version!r}")
    exp_id, events, problems = _history(ctx)
    mine = [e for e in events if e.model == model]
    rp = replay(mine, model)
    if not rp.registered(v):
        raise GovernanceError(f"{model} v{v} was never registered through cin-ml")
    tags = rp.tags[v]
    try:
        live = dict(ctx.client.get_model_version(model, v).tags)
    except Exception:
        live = {}
    run_id = tags.get(VersionTag.RUN_ID, "")
    reader = ctx.reader
    changes: list[str] = []
    try:
        ev = read_evidence(reader, run_id)
    except GovernanceError as exc:
        ev, changes = None, [str(exc)]
    if ev is not None:
        changes = evidence_changes(tags, ev)
        if ev.card_sha256 != tags.get(VersionTag.CARD_SHA):
            changes.append("card/card.sha256 differs from the registered card hash")
        if ev.card_content_sha256 != tags.get(VersionTag.CARD_CONTENT_SHA):
            changes.append("card/card.json was modified after registration")
    changes += list(check_model(ctx, reader, model, v, run_id, pinned_evidence(tags)).problems)
    scope = tags.get(VersionTag.CONSENT_SCOPE)
    row = _row(rp, mine, v, ctx.today.isoformat())
    return {**row, "model": model, "task": tags.get(VersionTag.TASK),
            "review": review_record(tags),
            "card_sha256": tags.get(VersionTag.CARD_SHA),
            "pinned": pinned_evidence(tags) or {},
            "evidence_changes": changes,
            "fairness_verdicts": json.loads(tags.get(VersionTag.FAIRNESS_VERDICTS) or "{}"),
            "consent_scope": json.loads(scope) if scope else None,
            "consent_state": tags.get(VersionTag.CONSENT_STATE, "unchecked"),
            "metrics": _artifact(reader, run_id, Artifact.EVALUATION),
            "audit": _artifact(reader, run_id, Artifact.FAIRNESS_AUDIT),
            "events": [e.to_dict() for e in mine if e.version == v],
            "champion": rp.aliases.get("champion"),
            "disagreements": tag_disagreements(rp, v, live),
            "history_problems": problems}


def card_rendering(ctx: Ctx, model: str, version: str | int, lang: str) -> bytes:
    """The version's card HTML in ``lang`` exactly as registered: the run's
    ``card/card.<lang>.html`` when its SHA-256 is the one pinned at registration, else
    GovernanceError (the committee never reads a card other than the one it decides on)."""
    import hashlib

    if lang not in ("fr", "en"):
        raise GovernanceError(f"card language must be fr or en; got {lang!r}")
    v = str(version)
    rp = replay(ctx.events(ctx.history_experiment(create=False), model), model)
    if not rp.registered(v):
        raise GovernanceError(f"{model} v{v} was never registered through cin-ml")
    tags = rp.tags[v]
    path = Artifact.card_html(lang)
    want = (pinned_evidence(tags) or {}).get(path)
    raw = ctx.reader.raw(tags.get(VersionTag.RUN_ID, ""), path)
    if raw is None or want is None or hashlib.sha256(raw).hexdigest() != want:
        raise GovernanceError(f"{path} of {model} v{v} is not the card registered for this "
                              f"version (changed or removed since registration)")
    return raw
