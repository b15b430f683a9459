"""Conditions as code bound to the approval; governance check withdraws @champion on a
breach recorded by a monitoring report, restores the last valid champion, marks re-review."""

from __future__ import annotations

import json
import time

import pytest

from cin_ml.errors import ConfigError, GateError, GovernanceError
from cin_ml.registry import check, history, promote, register, review, verify
from cin_ml.run_contract import Artifact, Tag

from ._runs import AUTHOR

M = "cin-ecriture-4e"


def _monitoring_report(version: str, values: dict) -> str:
    """A monitoring run for ``version`` as ``cin-ml monitor`` logs it (values only)."""
    from cin_ml.tracking import log_monitoring_run

    report = {"cohort": {"year": 2024}, "values": values}
    return log_monitoring_run({Tag.MONITOR_MODEL: M, Tag.MONITOR_VERSION: version,
                               Tag.MONITOR_COHORT: "2024"}, values,
                              {Artifact.MONITORING_REPORT: report})


def test_conditions_are_parsed_and_bound_to_the_approval(ctx, runs):
    v = register(ctx, runs["ready"], author=AUTHOR)["version"]
    n = len(history(ctx, M))
    with pytest.raises(ConfigError, match="condition 'auc_gap >= 1'"):
        review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
               condition_rules=["auc_gap >= 1"])
    with pytest.raises(GovernanceError, match="approval"):
        review(ctx, M, v, reviewer="a.tremblay", approve=False, comment="no",
               condition_rules=["auc >= 0.7"])
    assert len(history(ctx, M)) == n  # nothing recorded
    out = review(ctx, M, v, reviewer="a.tremblay", approve=True, comment="ok",
                 conditions="monitor the FNR of students with a plan",
                 condition_rules=["fnr_gap(intervention_plan) <= 0.25", "estimated_auc >= 0.85"])
    assert out["conditions"] == "monitor the FNR of students with a plan"  # free text kept
    assert [c["text"] for c in out["monitoring_conditions"]] == [
        "fnr_gap(intervention_plan) <= 0.25", "estimated_auc >= 0.85"]
    rec = json.loads(ctx.client.get_model_version(M, v).tags["cin.review"])
    assert rec["monitoring_conditions"][0] == {"text": "fnr_gap(intervention_plan) <= 0.25",
                                               "metric": "fnr_gap",
                                               "group": "intervention_plan", "op": "<=",
                                               "value": 0.25}
    ev = history(ctx, M)[-1]
    assert ev.type == "review" and ev.details["monitoring_conditions"][1] == \
        "estimated_auc >= 0.85"


def test_breach_withdraws_champion_restores_last_valid_and_needs_re_review(ctx, runs):
    v1 = register(ctx, runs["ready"], author=AUTHOR)["version"]
    review(ctx, M, v1, reviewer="a.tremblay", approve=True, comment="ok",
           condition_rules=["estimated_auc >= 0.6"])
    promote(ctx, M, v1, operator="ops.bouchard")
    v2 = register(ctx, runs["reseeded"], author=AUTHOR)["version"]
    early = _monitoring_report(v2, {"estimated_auc": 0.5})  # before v2's approval
    time.sleep(1.1)
    review(ctx, M, v2, reviewer="a.tremblay", approve=True, comment="ok",
           condition_rules=["estimated_auc >= 0.85", "fnr_gap(sex) <= 0.1"])
    promote(ctx, M, v2, operator="ops.bouchard")
    assert early and not check(ctx).changed  # a report older than the approval is ignored
    _monitoring_report(v1, {"estimated_auc": 0.7})  # v1's condition holds
    run2 = _monitoring_report(v2, {"estimated_auc": 0.71, "fnr_gap(sex)": None})
    rep = check(ctx)
    assert [(m, v) for m, v, _ in rep.breached] == [(M, v2)]
    assert rep.breached[0][2][0]["text"] == "estimated_auc >= 0.85"
    assert len(rep.breached[0][2]) == 1  # the unknown fnr_gap is not a breach
    assert rep.withdrawn == ((M, "champion", v2, v1),) and rep.repaired
    assert str(ctx.client.get_model_version_by_alias(M, "champion").version) == v1
    tags = ctx.client.get_model_version(M, v2).tags
    rec = json.loads(tags["cin.review"])
    assert tags["cin.review.state"] == "breached" and rec["monitoring_run"] == run2
    types = [e.type for e in history(ctx, M)]
    assert types[-4:] == ["breach.started", "breach", "withdraw.started", "withdraw"]
    with pytest.raises(GateError, match="review state is breached"):
        promote(ctx, M, v2, operator="ops.bouchard")
    assert not check(ctx).changed  # idempotent
    time.sleep(1.1)
    review(ctx, M, v2, reviewer="a.tremblay", approve=True, comment="re-reviewed",
           condition_rules=["estimated_auc >= 0.7"])
    promote(ctx, M, v2, operator="ops.bouchard")
    assert not check(ctx).breached  # the old report predates the new approval
    assert verify(ctx).ok
