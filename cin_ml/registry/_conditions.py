"""Conditions of an approval, enforced: ``governance check`` breaches a version whose latest
monitoring report (``cin-ml monitor``, a run of ``cin-monitoring``) breaks one of them.

The conditions are read from the governance history's review record (bound to the approval
event), never from the report; the report supplies only the observed values. Only a report
made after the approval counts, so a re-approval starts afresh. A breach is one ``breach``
action: the version's review record becomes ``breached`` (the ``approval`` gate then fails
until the committee reviews it again), which makes the alias reconciliation withdraw
``@champion`` and restore the last champion that still passes its live gates.
"""

from __future__ import annotations

from collections.abc import Iterable

from cin_ml.run_contract import MONITORING_EXPERIMENT, Artifact, RunKind, Tag

BREACHED = "breached"


def parse_rules(texts: Iterable[str]) -> list[dict]:
    """Parsed conditions as JSON-safe records (ConfigError naming a bad condition)."""
    from cin_ml.monitoring import parse_conditions

    rules = parse_conditions(t for t in texts if str(t).strip())
    return [c.to_dict() for c in rules]


def latest_report(ctx, model: str, version: str, after: str | None) -> tuple[str, dict] | None:
    """``(run_id, report)`` of the newest FINISHED monitoring run of ``model`` v``version``
    started after ``after`` (ISO time of the approval), or ``None``."""
    import datetime as dt

    exp = ctx.client.get_experiment_by_name(MONITORING_EXPERIMENT)
    if exp is None:
        return None
    runs = ctx.client.search_runs(
        [exp.experiment_id],
        f"tags.`{Tag.KIND.value}` = '{RunKind.MONITOR.value}' and "
        f"tags.`{Tag.MONITOR_MODEL.value}` = '{model}' and "
        f"tags.`{Tag.MONITOR_VERSION.value}` = '{version}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1)
    if not runs:
        return None
    run = runs[0]
    if after:
        since = dt.datetime.fromisoformat(after)
        started = dt.datetime.fromtimestamp(run.info.start_time / 1000, dt.UTC)
        if started < since:
            return None
    report = ctx.reader.optional(run.info.run_id, Artifact.MONITORING_REPORT.value)
    return (run.info.run_id, report) if isinstance(report, dict) else None


def breached_conditions(record: dict, report: dict) -> list[dict]:
    """The approval's conditions that ``report``'s observed values break."""
    from cin_ml.monitoring import evaluate_conditions

    states = evaluate_conditions(record.get("monitoring_conditions") or [],
                                 report.get("values") or {})
    return [s.to_dict() for s in states if s.state == BREACHED]


def breach_versions(ctx, exp_id: str, model: str, who: str) -> list[tuple[str, str, list]]:
    """Record a ``breach`` for every approved version of ``model`` whose conditions its
    latest monitoring report breaks; returns ``(model, version, breached)`` for each."""
    from cin_ml.registry._gates import review_record
    from cin_ml.registry._history import canonical
    from cin_ml.registry._txn import run_action
    from cin_ml.registry._workflow import _tag
    from cin_ml.run_contract import VersionTag

    out = []
    state = ctx.replay(exp_id, model)
    for v, tags in sorted(state.tags.items(), key=lambda kv: int(kv[0])):
        rec = review_record(tags)
        if not rec or rec.get("state") != "approved" or not rec.get("monitoring_conditions"):
            continue
        found = latest_report(ctx, model, v, rec.get("at"))
        if found is None:
            continue
        run_id, report = found
        bad = breached_conditions(rec, report)
        if not bad:
            continue
        today = ctx.today.isoformat()
        new = {**rec, "state": BREACHED, "breached_on": today, "monitoring_run": run_id,
               "breached": [{"text": b["text"], "observed": b["observed"]} for b in bad]}
        why = (f"condition(s) of the approval by {rec.get('reviewer')} breached on the "
               f"monitoring report {run_id}: "
               + "; ".join(f"{b['text']} (observed {b['observed']:.4g})" for b in bad)
               + "; the version needs a new review")
        run_action(ctx.client, exp_id, "breach", key=ctx.key, actor=who, model=model,
                   version=v, why=why[:2000], mode="forward",
                   ops=[_tag(model, v, VersionTag.REVIEW, canonical(new)),
                        _tag(model, v, VersionTag.REVIEW_STATE, BREACHED)],
                   commit_details={"monitoring_run": run_id, "breached": new["breached"],
                                   "cohort": (report.get("cohort") or {}).get("year")})
        out.append((model, v, new["breached"]))
    return out
