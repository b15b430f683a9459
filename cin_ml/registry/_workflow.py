"""Register, review, promote and roll back model versions (see ``_txn`` for the ordering)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from cin_ml.errors import GovernanceError
from cin_ml.registry._context import ALIASES, Ctx, alias_version, get_version, identity
from cin_ml.registry._evidence import read_evidence, rendering_mismatches
from cin_ml.registry._gates import (
    evaluate_gates,
    evidence_changes,
    pinned_evidence,
    review_record,
)
from cin_ml.registry._history import canonical, sha256_text
from cin_ml.registry._identity import normalize_identity
from cin_ml.registry._model_files import check_model, pin_model_files, write_manifest
from cin_ml.registry._reviewed_card import publish_reviewed_card
from cin_ml.registry._state import tag_disagreements
from cin_ml.registry._store import version_source
from cin_ml.registry._txn import run_action
from cin_ml.run_contract import Tag, VersionTag
from cin_ml.tasks import registered_model_name


def register(ctx: Ctx, run_id: str, author: str | None = None,
             actor: str | None = None) -> dict:
    """Create a version of the task's registered model from a run with a complete card."""
    client = ctx.client
    reader = ctx.reader
    ev = read_evidence(reader, run_id)
    if not ev.is_training_run or not ev.task:
        raise GovernanceError(f"run {run_id} is not a cin-ml training run "
                              f"({Tag.KIND.value}={reader.tags(run_id).get(Tag.KIND)!r})")
    model = registered_model_name(ev.task)
    who = identity(author or ev.author, ctx.settings, "author")
    by = identity(actor, ctx.settings, "actor") if actor else who
    problems = []
    if ev.status != "FINISHED":
        problems.append(f"run {run_id} is {ev.status}, not FINISHED")
    if ev.card_sha256 is None or ev.card_content_sha256 is None:
        problems.append(f"run {run_id} has no model card (card/card.json + card/card.sha256):"
                        f" run `cin-ml card --run {run_id}`")
    elif ev.card_content_sha256 != ev.card_sha256:
        problems.append(f"the card of run {run_id} does not match its card/card.sha256 "
                        f"(edited after it was built)")
    elif ev.card_ready is not True:
        miss = f" (missing: {', '.join(ev.card_missing)})" if ev.card_missing else ""
        problems.append(f"the card of run {run_id} is not complete{miss}")
    else:
        bad = rendering_mismatches(reader, run_id)
        if bad:
            problems.append(f"the card files of run {run_id} do not match its card.json: "
                            + "; ".join(bad) + f" (rebuild with `cin-ml card --run {run_id}`)")
    model_files: dict[str, str] = {}
    if ev.model_uri is None:
        problems.append(f"run {run_id} logged no model")
    else:
        model_files, trouble = pin_model_files(reader, ctx.store, ev.model_uri)
        if trouble:
            problems.append(f"run {run_id}: {trouble}")
    with ctx.locked() as exp_id:
        _ensure_model(client, model, ev.task)
        for mv in client.search_model_versions(f"name = '{model}'"):
            if mv.tags.get(VersionTag.RUN_ID) == run_id:
                raise GovernanceError(f"run {run_id} is already registered as {model} "
                                      f"v{mv.version}")
        if problems:
            ctx.refuse(exp_id, "register", model, None, by, problems)
        vtags = {VersionTag.RUN_ID: run_id, VersionTag.TASK: ev.task, VersionTag.AUTHOR: who,
                 VersionTag.REGISTERED_BY: by, VersionTag.REVIEW_STATE: "pending",
                 "cin.card.sha256": ev.card_sha256,
                 "cin.card.content_sha256": ev.card_content_sha256,
                 VersionTag.DATA_DIGESTS: canonical(dict(ev.data_digests)),
                 VersionTag.FAIRNESS_VERDICTS: canonical(dict(ev.fairness_verdicts or {})),
                 VersionTag.FAIRNESS_WORST: ev.fairness_worst,
                 VersionTag.FAIRNESS_FAILS: ",".join(ev.fairness_fails),
                 VersionTag.CONSENT_SCOPE: canonical(ev.consent_scope) if ev.consent_scope else "",
                 VersionTag.CONSENT_NOTE: "; ".join(ev.notes),
                 VersionTag.EVIDENCE: canonical({**ev.evidence_files,
                                                 **write_manifest(reader, run_id, model_files)})}
        model_id = ev.model_uri.removeprefix("models:/") if ev.model_uri.startswith(
            "models:/m-") else None
        op = {"op": "create", "model": model, "run_id": run_id, "model_id": model_id,
              "source": version_source(client, ctx.store, ev.model_uri), "tags": vtags}
        event, version = run_action(
            client, exp_id, "register", key=ctx.key, actor=by, why=f"register run {run_id}",
            model=model, version=None, ops=[op], mode="atomic",
            commit_details={"run_id": run_id, "author": who, "card_sha256": ev.card_sha256,
                            "data_digests": dict(ev.data_digests),
                            "fairness_worst": ev.fairness_worst})
    return {"model": model, "version": version, "run_id": run_id, "author": who,
            "card_sha256": ev.card_sha256, "fairness_worst": ev.fairness_worst,
            "fairness_fails": list(ev.fairness_fails), "consent_scope": ev.consent_scope,
            "event": event.seq}


def _ensure_model(client, model: str, task: str) -> None:
    try:
        client.get_registered_model(model)
    except Exception:
        try:
            client.create_registered_model(
                model, tags={VersionTag.MANAGED: "true", VersionTag.TASK: task},
                description=f"cin-ml risk model for task {task}; governed by "
                            f"`cin-ml review/promote` (aliases @champion, @challenger).")
        except Exception:  # created concurrently
            client.get_registered_model(model)


def review(ctx: Ctx, model: str, version: str | int, *, reviewer: str | None, approve: bool,
           comment: str, conditions: str = "", accept_fairness: Iterable[str] = (),
           expires: dt.date | None = None, condition_rules: Iterable[str] = ()) -> dict:
    """Record the ethics committee's decision on a version.

    ``conditions`` is free text; ``condition_rules`` are conditions as code
    (``fnr_gap(intervention_plan) <= 0.25``, :mod:`cin_ml.registry._conditions`), parsed
    now (ConfigError naming the condition), bound to the approval in its record and event,
    evaluated by ``cin-ml monitor`` and enforced by ``governance check``."""
    from cin_ml.registry._conditions import parse_rules

    rules = parse_rules(condition_rules)
    if rules and not approve:
        raise GovernanceError("--condition applies to an approval, not a rejection")
    client, s = ctx.client, ctx.settings
    mv = get_version(client, model, version)
    v = str(mv.version)
    who = identity(reviewer, s, "reviewer")
    comment, conditions = (comment or "").strip(), (conditions or "").strip()
    accepted = sorted({a.strip() for a in accept_fairness if a.strip()})
    with ctx.locked() as exp_id:
        state = ctx.replay(exp_id, model)
        live = dict(client.get_model_version(model, v).tags)
        tags = state.tags.get(v, {})
        problems = tag_disagreements(state, v, live)
        if who not in s.people.committee:
            problems.append(f"{who!r} is not a member of the ethics committee "
                            f"(governance.toml [people] committee)")
        if who == normalize_identity(tags.get(VersionTag.AUTHOR, "")):
            problems.append(f"{who!r} is the author of {model} v{v} and may not review it")
        if not approve and not comment:
            problems.append("a rejection needs a comment saying why")
        if len(comment) > s.governance.max_comment_chars or len(conditions) > 1000:
            problems.append(f"comment ≤ {s.governance.max_comment_chars} and conditions ≤ "
                            f"1000 characters")
        limit = ctx.today + dt.timedelta(days=s.approval.max_validity_days)
        until = expires or limit
        if approve and not ctx.today <= until <= limit:
            problems.append(f"--expires {until} must be between today ({ctx.today}) and "
                            f"{limit} ([approval] max_validity_days)")
        fails = [f for f in tags.get(VersionTag.FAIRNESS_FAILS, "").split(",") if f]
        stray = [a for a in accepted
                 if a not in fails and not any(_matches(a, f) for f in fails)]
        if stray:
            problems.append(f"accepted fairness fail(s) {', '.join(stray)} match no fail "
                            f"verdict of this version ({', '.join(fails) or 'none'})")
        ev = read_evidence(ctx.reader, tags.get(VersionTag.RUN_ID, "")) if tags else None
        if ev is not None and (ev.card_sha256 != tags.get("cin.card.sha256") or
                               ev.card_content_sha256 != tags.get("cin.card.content_sha256")
                               or evidence_changes(tags, ev)):
            changed = evidence_changes(tags, ev)
            problems.append("tampered card: the run's card changed since registration"
                            + (f" ({'; '.join(changed[:4])})" if changed else ""))
        if tags:
            mc = check_model(ctx, ctx.reader, model, v, tags.get(VersionTag.RUN_ID, ""),
                             pinned_evidence(tags))
            if mc.problems:
                problems.append("tampered model: " + "; ".join(mc.problems))
        if problems:
            ctx.refuse(exp_id, "review", model, v, who, problems)
        rec = {"state": "approved" if approve else "rejected", "reviewer": who,
               "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               "comment": comment, "conditions": conditions,
               "accepted_fairness": accepted if approve else [],
               "expires": until.isoformat() if approve else None,
               "card_sha256": ev.card_sha256,
               "evidence_sha256": sha256_text(tags.get(VersionTag.EVIDENCE, ""))}
        if rules:
            rec["monitoring_conditions"] = rules
        ops = [_tag(model, v, VersionTag.REVIEW, canonical(rec)),
               _tag(model, v, VersionTag.REVIEW_STATE, rec["state"]),
               _tag(model, v, VersionTag.REVIEWER, who),
               _tag(model, v, VersionTag.REVIEW_EXPIRES, rec["expires"] or "")]
        event, _ = run_action(client, exp_id, "review", key=ctx.key, actor=who, why=comment,
                              model=model, version=v, ops=ops, mode="forward",
                              commit_details={"decision": rec["state"],
                                              "expires": rec["expires"],
                                              "accepted_fairness": rec["accepted_fairness"],
                                              "card_sha256": ev.card_sha256,
                                              "evidence_sha256": rec["evidence_sha256"],
                                              **({"monitoring_conditions": [
                                                  r["text"] for r in rules]} if rules else {})})
    return {"model": model, "version": v, **rec, "event": event.seq,
            "reviewed_card": publish_reviewed_card(ctx, model, v)}


def _republish(ctx: Ctx, model: str, version: str, previous: str | None) -> dict:
    """Reviewed cards of the version that now holds the alias (``reviewed_card``) and of the
    one that lost it (``previous_reviewed_card``, when another version held it)."""
    out = {"reviewed_card": publish_reviewed_card(ctx, model, version)}
    if previous and previous != version:
        out["previous_reviewed_card"] = {"version": previous,
                                         **publish_reviewed_card(ctx, model, previous)}
    return out


def _matches(pattern: str, key: str) -> bool:
    b, _, m = key.partition(":")
    return pattern in (key, f"{b}:*", f"*:{m}")


def _tag(model: str, version: str, key: str, value: str) -> dict:
    return {"op": "set_tag", "model": model, "version": version, "key": key, "value": value}


def _alias_op(model: str, alias: str, version: str | None) -> dict:
    if version is None:
        return {"op": "delete_alias", "model": model, "alias": alias}
    return {"op": "set_alias", "model": model, "alias": alias, "version": version}


def gate_report(ctx: Ctx, model: str, version: str, alias: str, operator: str,
                exp_id: str | None = None, state=None, unpinned_ok: bool = False):
    """Evaluate the alias's gates for one version: decisions and pinned digests from the
    governance history (``state``: its replay, else read now), the run's current evidence,
    the files the version's model location holds now, and every live tag that disagrees
    with the history. ``unpinned_ok``: see :func:`evaluate_gates`."""
    if state is None:
        state = ctx.replay(exp_id if exp_id is not None else ctx.history_experiment(False),
                           model)
    live = dict(ctx.client.get_model_version(model, version).tags)
    tags = state.tags.get(str(version), {})
    disagreements = tag_disagreements(state, str(version), live)
    reader = ctx.reader
    ev = read_evidence(reader, tags.get(VersionTag.RUN_ID) or live.get(VersionTag.RUN_ID)
                       or "")
    mc = check_model(ctx, reader, model, version, ev.run_id, pinned_evidence(tags))
    return evaluate_gates(model, version, alias, tags, ev, ctx.settings, ctx.consent,
                          operator, ctx.today, disagreements, model_check=mc,
                          unpinned_ok=unpinned_ok)


def promote(ctx: Ctx, model: str, version: str | int, *, alias: str = "champion",
            operator: str | None, why: str = "") -> dict:
    """Move ``@alias`` to a version if every gate holds; refuse with the failed gates."""
    if alias not in ALIASES:
        raise GovernanceError(f"alias must be one of {', '.join(ALIASES)}; got {alias!r}")
    v = str(get_version(ctx.client, model, version).version)
    who = identity(operator, ctx.settings, "operator")
    with ctx.locked() as exp_id:
        report = gate_report(ctx, model, v, alias, who, exp_id)
        if not report.ok:
            ctx.refuse(exp_id, "promote", model, v, who, report.failed_lines(),
                       gates=[r.gate for r in report.failed])
        previous = alias_version(ctx.client, model, alias)
        event, _ = run_action(
            ctx.client, exp_id, "promote", key=ctx.key, actor=who, why=why, model=model, version=v,
            ops=[_alias_op(model, alias, v)], mode="atomic",
            commit_details={"alias": alias, "previous": previous,
                            "gates": [r.to_dict() for r in report.results]})
    return {"model": model, "version": v, "alias": alias, "previous": previous,
            "gates": report.to_dict(), "event": event.seq,
            **_republish(ctx, model, v, previous)}


def rollback(ctx: Ctx, model: str, *, operator: str | None, why: str,
             alias: str = "champion") -> dict:
    """Move ``@alias`` back to the most recent earlier version that still passes its gates."""
    try:
        ctx.client.get_registered_model(model)
    except Exception:
        raise GovernanceError(f"unknown model '{model}'") from None
    who = identity(operator, ctx.settings, "operator")
    if not (why or "").strip():
        raise GovernanceError(f"rollback of {model}: give the reason (--why)")
    with ctx.locked() as exp_id:
        current = alias_version(ctx.client, model, alias)
        state = ctx.replay(exp_id, model)
        timeline = state.timeline.get(alias, [])
        tried: list[str] = []
        target, report = None, None
        for cand in reversed(timeline):
            if cand is None or cand == current or cand in tried:
                continue
            tried.append(cand)
            report = gate_report(ctx, model, cand, alias, who, exp_id, state)
            if report.ok:
                target = cand
                break
            tried[-1] = f"v{cand} ({', '.join(r.gate for r in report.failed)})"
        if target is None:
            reasons = [f"no earlier @{alias} of {model} passes the gates"
                       + (f": {'; '.join(tried)}" if tried else " (none recorded)")]
            gates = sorted({r.gate for r in report.failed}) if report else ["approval"]
            ctx.refuse(exp_id, "rollback", model, current, who, reasons, gates=gates)
        event, _ = run_action(
            ctx.client, exp_id, "rollback", key=ctx.key, actor=who, why=why, model=model,
            version=target,
            ops=[_alias_op(model, alias, target)], mode="atomic",
            commit_details={"alias": alias, "previous": current,
                            "gates": [r.to_dict() for r in report.results]})
    return {"model": model, "alias": alias, "version": target, "previous": current,
            "event": event.seq, **_republish(ctx, model, target, current)}


def version_summary(ctx: Ctx, model: str, version: str) -> dict:
    """A version as the governance history has it (decoded for display), with the live tags
    that disagree with it."""
    state = ctx.replay(ctx.history_experiment(create=False), model)
    live = dict(ctx.client.get_model_version(model, version).tags)
    tags = state.tags.get(str(version), {})
    return {"model": model, "version": version, "run_id": tags.get(VersionTag.RUN_ID),
            "author": tags.get(VersionTag.AUTHOR), "state": tags.get(VersionTag.REVIEW_STATE),
            "review": review_record(tags), "card_sha256": tags.get("cin.card.sha256"),
            "fairness_worst": tags.get(VersionTag.FAIRNESS_WORST),
            "consent": tags.get(VersionTag.CONSENT_STATE, "unchecked"),
            "scope": json.loads(tags[VersionTag.CONSENT_SCOPE])
            if tags.get(VersionTag.CONSENT_SCOPE) else None,
            "disagreements": tag_disagreements(state, str(version), live)}
