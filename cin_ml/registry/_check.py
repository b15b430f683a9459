"""``cin-ml governance check``: expire approvals, flag versions whose data-use agreements no
longer hold, withdraw aliases from versions that fail, and restore the last valid champion."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cin_ml.registry._context import Ctx, alias_version, identity
from cin_ml.registry._gates import consent_result, review_record
from cin_ml.registry._history import canonical, read_events
from cin_ml.registry._txn import run_action
from cin_ml.registry._workflow import _alias_op, _tag, alias_timeline, gate_report
from cin_ml.run_contract import VersionTag

SYSTEM_ACTOR = "system:governance-check"
# gates whose outcome can change after promotion (time, tampering, agreements); the others
# judge frozen run evidence and were checked when the alias moved
_LIVE_GATES = ("approval", "card", "consent")


@dataclass(frozen=True)
class CheckReport:
    """What a governance check found and did (each change is also a history event)."""

    on_date: str
    expired: tuple[tuple[str, str], ...]
    consent_flagged: tuple[tuple[str, str, str], ...]
    consent_cleared: tuple[tuple[str, str], ...]
    withdrawn: tuple[tuple[str, str, str, str | None], ...]  # model, alias, from, to

    @property
    def changed(self) -> bool:
        return bool(self.expired or self.consent_flagged or self.consent_cleared
                    or self.withdrawn)

    def to_dict(self) -> dict:
        return {"on_date": self.on_date, "changed": self.changed,
                "expired": [{"model": m, "version": v} for m, v in self.expired],
                "consent_flagged": [{"model": m, "version": v, "reason": r}
                                    for m, v, r in self.consent_flagged],
                "consent_cleared": [{"model": m, "version": v}
                                    for m, v in self.consent_cleared],
                "withdrawn": [{"model": m, "alias": a, "from": f, "to": t}
                              for m, a, f, t in self.withdrawn]}


def _managed_models(client) -> list[str]:
    return sorted(rm.name for rm in client.search_registered_models()
                  if rm.tags.get(VersionTag.MANAGED) == "true")


def check(ctx: Ctx, actor: str | None = None) -> CheckReport:
    """Run the periodic governance check on every cin-ml model of the store."""
    client, today = ctx.client, ctx.today
    who = identity(actor, ctx.settings, "actor") if actor else SYSTEM_ACTOR
    expired, flagged, cleared, withdrawn = [], [], [], []
    with ctx.locked() as exp_id:
        for model in _managed_models(client):
            for mv in client.search_model_versions(f"name = '{model}'"):
                v, tags = str(mv.version), dict(mv.tags)
                rec = review_record(tags)
                if (rec and rec.get("state") == "approved" and rec.get("expires")
                        and rec["expires"] < today.isoformat()):
                    new = {**rec, "state": "expired", "expired_on": today.isoformat()}
                    run_action(client, exp_id, "expire", actor=who, model=model, version=v,
                               why=f"approval by {rec.get('reviewer')} expired on "
                                   f"{rec['expires']}",
                               ops=[_tag(model, v, VersionTag.REVIEW, canonical(new)),
                                    _tag(model, v, VersionTag.REVIEW_STATE, "expired")],
                               mode="forward")
                    expired.append((model, v))
                scope = (json.loads(tags[VersionTag.CONSENT_SCOPE])
                         if tags.get(VersionTag.CONSENT_SCOPE) else None)
                res = consent_result(scope, ctx.consent, ctx.settings.governance.purpose,
                                     today, tags.get(VersionTag.CONSENT_NOTE, ""))
                state = tags.get(VersionTag.CONSENT_STATE)
                if not res.ok and state != "invalid":
                    run_action(client, exp_id, "consent.flag", actor=who, model=model,
                               version=v, why=res.detail, mode="forward",
                               ops=[_tag(model, v, VersionTag.CONSENT_STATE, "invalid"),
                                    _tag(model, v, VersionTag.CONSENT_FLAG, res.detail[:4000])])
                    flagged.append((model, v, res.detail))
                elif res.ok and state == "invalid":
                    run_action(client, exp_id, "consent.clear", actor=who, model=model,
                               version=v, why=res.detail, mode="forward",
                               ops=[_tag(model, v, VersionTag.CONSENT_STATE, "valid"),
                                    _tag(model, v, VersionTag.CONSENT_FLAG, "")])
                    cleared.append((model, v))
            for alias in ("champion", "challenger"):
                change = _withdraw_if_invalid(ctx, exp_id, model, alias, who)
                if change:
                    withdrawn.append(change)
    return CheckReport(today.isoformat(), tuple(expired), tuple(flagged), tuple(cleared),
                       tuple(withdrawn))


def _still_valid(ctx: Ctx, model: str, version: str, alias: str) -> tuple[bool, str]:
    report = gate_report(ctx, model, version, alias, operator="")
    failed = [r for r in report.failed if r.gate in _LIVE_GATES]
    return not failed, "; ".join(f"{r.gate}: {r.detail}" for r in failed)


def _withdraw_if_invalid(ctx: Ctx, exp_id: str, model: str, alias: str, who: str):
    current = alias_version(ctx.client, model, alias)
    if current is None:
        return None
    ok, why = _still_valid(ctx, model, current, alias)
    if ok:
        return None
    target = None
    if alias == "champion":
        timeline = alias_timeline(read_events(ctx.client, exp_id, model), model, alias)
        seen = {current}
        for cand in reversed(timeline):
            if cand is None or cand in seen:
                continue
            seen.add(cand)
            if _still_valid(ctx, model, cand, alias)[0]:
                target = cand
                break
    run_action(ctx.client, exp_id, "withdraw", actor=who, model=model, version=current,
               why=f"@{alias} v{current} no longer valid: {why}", mode="forward",
               ops=[_alias_op(model, alias, target)],
               commit_details={"alias": alias, "previous": current, "restored": target})
    return model, alias, current, target
