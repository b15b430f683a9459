"""Conditions as code: the whitelisted grammar and its evaluation."""

from __future__ import annotations

import pytest

from cin_ml.errors import ConfigError
from cin_ml.monitoring import evaluate_conditions, parse_condition, parse_conditions


def test_parse_group_metric_and_plain_metric():
    c = parse_condition("fnr_gap(intervention_plan) <= 0.25")
    assert (c.metric, c.group, c.op, c.value) == ("fnr_gap", "intervention_plan", "<=", 0.25)
    assert c.key == "fnr_gap(intervention_plan)"
    d = parse_condition("  estimated_auc   >=  0.85 ")
    assert (d.key, d.op, d.value, d.text) == ("estimated_auc", ">=", 0.85,
                                              "estimated_auc >= 0.85")


@pytest.mark.parametrize(("text", "why"), [
    ("accuracy >= 0.9", "unknown metric 'accuracy'"),
    ("fnr_gap <= 0.2", "needs an audit attribute"),
    ("fnr_gap(teacher) <= 0.2", "unknown audit attribute 'teacher'"),
    ("estimated_auc(sex) >= 0.8", "takes no argument"),
    ("estimated_auc == 0.8", "comparator"),
    ("estimated_auc >= 'high'", "expected a number"),
    ("0.8 <= estimated_auc <= 0.9", "exactly one comparison"),
    ("__import__('os').system('x') > 1", "METRIC"),
    ("estimated_auc >=", "not of the form"),
])
def test_parse_errors_name_the_condition(text, why):
    with pytest.raises(ConfigError) as exc:
        parse_condition(text)
    msg = str(exc.value)
    assert why in msg and msg.startswith("condition ") and text.split()[0] in msg
    assert "\n" not in msg


def test_evaluate_holds_breached_unknown():
    conds = parse_conditions(["estimated_auc >= 0.85", "fnr_gap(sex) <= 0.1", "auc > 0.7",
                              "estimated_auc >= 0.85"])
    assert len(conds) == 3
    states = evaluate_conditions(conds, {"estimated_auc": 0.8, "fnr_gap(sex)": 0.05})
    assert [s.state for s in states] == ["breached", "holds", "unknown"]
    assert states[0].to_dict()["observed"] == 0.8
    again = evaluate_conditions([c.to_dict() for c in conds], {"auc": 0.75})
    assert [s.state for s in again] == ["unknown", "unknown", "holds"]
