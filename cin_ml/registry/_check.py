"""``cin-ml governance check``: reconcile the live registry with the governance history.

Under the governance lock, on a verified history, for every cin-ml model of the store:

1. **tags** — a version tag that disagrees with the history (written outside cin-ml) is
   reported and rewritten from the history (``restore.tags``); a version the history never
   registered is reported (it is never served nor promoted);
2. **approvals** — an approval past its expiry date is expired (``expire``); an approval
   whose conditions (``review --condition``) the version's latest monitoring report breaks
   is breached (``breach``, :mod:`._conditions`): the version needs a new review;
3. **consent** — a version whose data-use agreements no longer hold is flagged
   (``consent.flag``), and cleared again when they do (``consent.clear``);
4. **aliases** — an alias moved, set or deleted outside cin-ml is put back where the history
   has it (``restore``); an alias on a version that no longer passes its live gates
   (history, approval, card, consent) is withdrawn and ``@champion`` restored to the last
   valid champion (``withdraw``): a model file changed, added or removed since
   registration fails the ``card`` gate; a version registered before model pinning keeps
   its alias and is reported (``unpinned``);
5. **stale runs** — a training run still ``RUNNING`` ``[check] stale_run_hours`` after it
   started (its process was killed) is marked ``FAILED`` (``run.failed``).

After the lock, the card with the decision (``card/reviewed/``, which states whether the
version serves) is rendered again for every version an alias left or reached
(:attr:`CheckReport.reviewed_cards`).

Each change is a history event; :attr:`CheckReport.repaired` (any alias or tag repaired)
makes the CLI exit non-zero, so a scheduler can alert.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from cin_ml.registry._conditions import breach_versions
from cin_ml.registry._context import Ctx, alias_version, identity
from cin_ml.registry._gates import consent_result, pinned_evidence, review_record
from cin_ml.registry._history import canonical
from cin_ml.registry._model_files import MANIFEST, unpinned_line
from cin_ml.registry._reviewed_card import publish_reviewed_card
from cin_ml.registry._state import alias_disagreement, tag_disagreements
from cin_ml.registry._txn import run_action
from cin_ml.registry._workflow import _alias_op, _tag, gate_report
from cin_ml.run_contract import RunKind, Tag, VersionTag

SYSTEM_ACTOR = "system:governance-check"
# gates whose outcome can change after promotion (tampering, time, agreements); the others
# judge frozen, hash-pinned run evidence and were checked when the alias moved
_LIVE_GATES = ("history", "approval", "card", "consent")


@dataclass(frozen=True)
class CheckReport:
    """What a governance check found and did (each change is also a history event)."""

    on_date: str
    expired: tuple[tuple[str, str], ...]
    consent_flagged: tuple[tuple[str, str, str], ...]
    consent_cleared: tuple[tuple[str, str], ...]
    withdrawn: tuple[tuple[str, str, str, str | None], ...]  # model, alias, from, to
    restored: tuple[tuple[str, str, str | None, str | None, str], ...] = ()
    # model, alias, live (from), restored to, why
    tags_restored: tuple[tuple[str, str, str], ...] = ()  # model, version, why
    foreign: tuple[tuple[str, str], ...] = ()  # model, version never registered by cin-ml
    stale_runs: tuple[str, ...] = ()
    breached: tuple[tuple[str, str, tuple], ...] = ()  # model, version, conditions breached
    unpinned: tuple[tuple[str, str, str], ...] = ()
    # model, alias, version holding it whose model files were never pinned (kept, reported)
    withdraw_reasons: tuple[tuple[str, str, str], ...] = ()  # model, alias, failed gates
    reviewed_cards: tuple[dict, ...] = ()
    """``{"model", "version", "run_id", "files"}`` (or ``"note"``) of each version whose card
    with the decision was rendered again because an alias left or reached it."""

    @property
    def repaired(self) -> bool:
        """Whether the registry had to be repaired (aliases or tags): alert on it."""
        return bool(self.withdrawn or self.restored or self.tags_restored)

    @property
    def changed(self) -> bool:
        return bool(self.expired or self.consent_flagged or self.consent_cleared
                    or self.repaired or self.stale_runs or self.breached)

    def to_dict(self) -> dict:
        return {"on_date": self.on_date, "changed": self.changed, "repaired": self.repaired,
                "expired": [{"model": m, "version": v} for m, v in self.expired],
                "consent_flagged": [{"model": m, "version": v, "reason": r}
                                    for m, v, r in self.consent_flagged],
                "consent_cleared": [{"model": m, "version": v}
                                    for m, v in self.consent_cleared],
                "withdrawn": [{"model": m, "alias": a, "from": f, "to": t,
                               "why": dict(((wm, wa), w) for wm, wa, w
                                           in self.withdraw_reasons).get((m, a), "")}
                              for m, a, f, t in self.withdrawn],
                "restored": [{"model": m, "alias": a, "from": f, "to": t, "why": w}
                             for m, a, f, t, w in self.restored],
                "tags_restored": [{"model": m, "version": v, "why": w}
                                  for m, v, w in self.tags_restored],
                "foreign": [{"model": m, "version": v} for m, v in self.foreign],
                "stale_runs": list(self.stale_runs),
                "breached": [{"model": m, "version": v, "conditions": list(c)}
                             for m, v, c in self.breached],
                "unpinned": [{"model": m, "alias": a, "version": v, "note": unpinned_line(m, v)}
                             for m, a, v in self.unpinned],
                "reviewed_cards": [dict(r) for r in self.reviewed_cards]}


def _managed_models(client) -> list[str]:
    return sorted(rm.name for rm in client.search_registered_models()
                  if rm.tags.get(VersionTag.MANAGED) == "true")


class _Found:
    def __init__(self) -> None:
        self.expired, self.flagged, self.cleared, self.withdrawn = [], [], [], []
        self.restored, self.tags_restored, self.foreign, self.stale = [], [], [], []
        self.breached, self.unpinned, self.reasons = [], [], []


def check(ctx: Ctx, actor: str | None = None) -> CheckReport:
    """Run the periodic governance check on every cin-ml model of the store."""
    client = ctx.client
    who = identity(actor, ctx.settings, "actor") if actor else SYSTEM_ACTOR
    f = _Found()
    with ctx.locked() as exp_id:
        for model in _managed_models(client):
            _restore_tags(ctx, exp_id, model, who, f)
            _expire_and_consent(ctx, exp_id, model, who, f)
            f.breached += [(m, v, tuple(c)) for m, v, c in
                           breach_versions(ctx, exp_id, model, who)]
            for alias in ("champion", "challenger"):
                _reconcile_alias(ctx, exp_id, model, alias, who, f)
        _fail_stale_runs(ctx, exp_id, who, f)
    return CheckReport(ctx.today.isoformat(), tuple(f.expired), tuple(f.flagged),
                       tuple(f.cleared), tuple(f.withdrawn), tuple(f.restored),
                       tuple(f.tags_restored), tuple(f.foreign), tuple(f.stale),
                       tuple(f.breached), tuple(f.unpinned), tuple(f.reasons),
                       _republish_moved(ctx, f))


def _republish_moved(ctx: Ctx, f: _Found) -> tuple[dict, ...]:
    """Render the card with the decision again for each version an alias left or reached
    (its serving status changed); a failure is a note, never an undone repair."""
    moved = {(m, v) for m, _, a, b in f.withdrawn for v in (a, b) if v}
    moved |= {(m, v) for m, _, a, b, _ in f.restored for v in (a, b) if v}
    return tuple({"model": m, "version": v, **publish_reviewed_card(ctx, m, v)}
                 for m, v in sorted(moved, key=lambda mv: (mv[0], int(mv[1]))))


def _restore_tags(ctx: Ctx, exp_id: str, model: str, who: str, f: _Found) -> None:
    state = ctx.replay(exp_id, model)
    for mv in ctx.client.search_model_versions(f"name = '{model}'"):
        v, live = str(mv.version), dict(mv.tags)
        if not state.registered(v):
            f.foreign.append((model, v))
            continue
        bad = tag_disagreements(state, v, live)
        if not bad:
            continue
        want = state.tags[v]
        ops = [_tag(model, v, k, val) for k, val in sorted(want.items())
               if live.get(k) != val]
        ops += [{"op": "delete_tag", "model": model, "version": v, "key": k}
                for k in sorted(live) if k.startswith("cin.") and k not in want]
        why = "; ".join(bad)
        run_action(ctx.client, exp_id, "restore.tags", key=ctx.key, actor=who, model=model,
                   version=v, why=f"tags written outside cin-ml: {why}"[:2000], ops=ops,
                   mode="forward", commit_details={"disagreements": bad[:20]})
        f.tags_restored.append((model, v, why))


def _expire_and_consent(ctx: Ctx, exp_id: str, model: str, who: str, f: _Found) -> None:
    today = ctx.today
    state = ctx.replay(exp_id, model)
    for v, tags in sorted(state.tags.items(), key=lambda kv: int(kv[0])):
        rec = review_record(tags)
        if (rec and rec.get("state") == "approved" and rec.get("expires")
                and rec["expires"] < today.isoformat()):
            new = {**rec, "state": "expired", "expired_on": today.isoformat()}
            run_action(ctx.client, exp_id, "expire", key=ctx.key, actor=who, model=model,
                       version=v, why=f"approval by {rec.get('reviewer')} expired on "
                                      f"{rec['expires']}",
                       ops=[_tag(model, v, VersionTag.REVIEW, canonical(new)),
                            _tag(model, v, VersionTag.REVIEW_STATE, "expired")],
                       mode="forward")
            f.expired.append((model, v))
        scope = (json.loads(tags[VersionTag.CONSENT_SCOPE])
                 if tags.get(VersionTag.CONSENT_SCOPE) else None)
        res = consent_result(scope, ctx.consent, ctx.settings.governance.purpose, today,
                             tags.get(VersionTag.CONSENT_NOTE, ""))
        state_now = tags.get(VersionTag.CONSENT_STATE)
        if not res.ok and state_now != "invalid":
            run_action(ctx.client, exp_id, "consent.flag", key=ctx.key, actor=who,
                       model=model, version=v, why=res.detail, mode="forward",
                       ops=[_tag(model, v, VersionTag.CONSENT_STATE, "invalid"),
                            _tag(model, v, VersionTag.CONSENT_FLAG, res.detail[:4000])])
            f.flagged.append((model, v, res.detail))
        elif res.ok and state_now == "invalid":
            run_action(ctx.client, exp_id, "consent.clear", key=ctx.key, actor=who,
                       model=model, version=v, why=res.detail, mode="forward",
                       ops=[_tag(model, v, VersionTag.CONSENT_STATE, "valid"),
                            _tag(model, v, VersionTag.CONSENT_FLAG, "")])
            f.cleared.append((model, v))


def _still_valid(ctx: Ctx, exp_id: str, model: str, version: str, alias: str,
                 state) -> tuple[bool, str]:
    # a version registered before model pinning keeps its alias (withdrawing every such
    # champion at upgrade would leave nothing to serve); promote refuses it, and the check
    # reports it (docs/architecture.md, "Threat model")
    report = gate_report(ctx, model, version, alias, "", exp_id, state, unpinned_ok=True)
    failed = [r for r in report.failed if r.gate in _LIVE_GATES]
    return not failed, "; ".join(f"{r.gate}: {r.detail}" for r in failed)


def _reconcile_alias(ctx: Ctx, exp_id: str, model: str, alias: str, who: str,
                     f: _Found) -> None:
    state = ctx.replay(exp_id, model)
    live = alias_version(ctx.client, model, alias)
    wanted = state.aliases.get(alias)
    moved = alias_disagreement(state, alias, live)
    target, why_invalid = wanted, ""
    if wanted is not None:
        ok, why_invalid = _still_valid(ctx, exp_id, model, wanted, alias, state)
        if not ok:
            target = None
            if alias == "champion":
                seen = {wanted}
                for cand in reversed(state.timeline.get(alias, [])):
                    if cand is None or cand in seen:
                        continue
                    seen.add(cand)
                    if _still_valid(ctx, exp_id, model, cand, alias, state)[0]:
                        target = cand
                        break
    if target is not None and not (pinned_evidence(state.tags.get(target, {})) or {}).get(
            MANIFEST):
        f.unpinned.append((model, alias, target))
    if target == live and not moved:
        return
    ops = [_alias_op(model, alias, target)]
    if wanted is not None and target != wanted:
        run_action(ctx.client, exp_id, "withdraw", key=ctx.key, actor=who, model=model,
                   version=wanted, why=f"@{alias} v{wanted} no longer valid: {why_invalid}",
                   mode="forward", ops=ops,
                   commit_details={"alias": alias, "previous": wanted, "restored": target,
                                   **({"outside_change": moved} if moved else {})})
        f.withdrawn.append((model, alias, wanted, target))
        f.reasons.append((model, alias, why_invalid))
        if moved:
            f.restored.append((model, alias, live, target, moved))
        return
    run_action(ctx.client, exp_id, "restore", key=ctx.key, actor=who, model=model,
               version=target, why=moved or f"@{alias} restored", mode="forward", ops=ops,
               commit_details={"alias": alias, "previous": live, "restored": target})
    f.restored.append((model, alias, live, target, moved or ""))


def _fail_stale_runs(ctx: Ctx, exp_id: str, who: str, f: _Found) -> None:
    """Mark training runs left RUNNING longer than ``[check] stale_run_hours`` FAILED."""
    from mlflow.entities import ViewType

    hours = ctx.settings.check.stale_run_hours
    cutoff_ms = int((time.time() - hours * 3600) * 1000)
    exps = [e.experiment_id for e in ctx.client.search_experiments(view_type=ViewType.ALL)
            if e.experiment_id != exp_id]
    if not exps:
        return
    runs = ctx.client.search_runs(
        exps, f"attributes.status = 'RUNNING' and tags.`{Tag.KIND.value}` = "
              f"'{RunKind.TRAIN.value}'", run_view_type=ViewType.ACTIVE_ONLY, max_results=5000)
    for run in runs:
        if run.info.start_time is None or run.info.start_time > cutoff_ms:
            continue
        rid = run.info.run_id
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.info.start_time / 1000))
        why = (f"training run {rid} still RUNNING {hours:g} h after it started ({started} UTC):"
               f" its process was killed; marked FAILED")
        ctx.client.set_tag(rid, "cin.failed_reason", why)
        ctx.client.set_terminated(rid, "FAILED")
        from cin_ml.registry._history import append_event

        append_event(ctx.client, exp_id, "run.failed", key=ctx.key, actor=who, why=why,
                     details={"run_id": rid, "started_ms": run.info.start_time})
        f.stale.append(rid)
