"""Conditions of an approval as code: ``fnr_gap(intervention_plan) <= 0.25``.

A condition is one comparison between a whitelisted monitoring metric (optionally with one
audit attribute as argument) and a number. It is parsed with :mod:`ast`, like the spec rules
of :mod:`cin_ml.external`, and walked against a whitelist; nothing is ever evaluated by
Python. The grammar::

    condition := metric [ "(" attribute ")" ] comparator number
    comparator := "<" | "<=" | ">" | ">="

A condition whose metric has no value yet (the cohort's labels are not in) is ``unknown``:
neither held nor breached.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cin_ml.errors import ConfigError

__all__ = ["CONDITION_METRICS", "GROUP_ATTRIBUTES", "GROUP_METRICS", "Condition", "ConditionState",
           "evaluate_conditions", "parse_condition", "parse_conditions"]

CONDITION_METRICS: dict[str, str] = {
    "estimated_auc": "AUC estimated from the calibrated probabilities (no labels needed)",
    "estimated_auc_low": "lower end of the estimated AUC's interval",
    "estimated_recall": "recall at capacity estimated from the calibrated probabilities",
    "estimated_event_rate": "event rate expected from the calibrated probabilities",
    "auc": "realized AUC on the latest cohort whose labels are in",
    "recall": "realized recall at the model's threshold on that cohort",
    "calibration_gap": "|mean predicted probability - observed event rate| on that cohort",
    "ece": "expected calibration error on that cohort",
    "flag_rate": "share of the newest cohort flagged",
    "flag_rate_change": "|flag rate - flag rate on the training run's test cohort|",
    "score_psi": "PSI of the score distribution against the test cohort",
    "max_feature_psi": "largest PSI of a model input against the training cohorts",
    "drifted_features": "number of model inputs flagged as drifted",
    "drifted_css": "number of CSS with at least one drifted input (or new)",
}
"""Metric names a condition may use, and what each measures."""

GROUP_METRICS: dict[str, str] = {
    "fnr_gap": "largest minus smallest false-negative rate across the attribute's groups",
    "fpr_gap": "largest minus smallest false-positive rate across the attribute's groups",
    "flag_rate_gap": "largest minus smallest flag rate across the attribute's groups",
}
"""Metrics that take one audit attribute: ``fnr_gap(intervention_plan)``."""

GROUP_ATTRIBUTES = ("sex", "language_group", "immigration_generation", "intervention_plan",
                    "imse_band")
_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_CMP = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b}


@dataclass(frozen=True)
class Condition:
    """One parsed condition (``text`` as the reviewer typed it, stripped)."""

    text: str
    metric: str
    group: str | None
    op: str
    value: float

    @property
    def key(self) -> str:
        """The metric's name in a monitoring report: ``fnr_gap(intervention_plan)``."""
        return f"{self.metric}({self.group})" if self.group else self.metric

    def holds(self, observed: float) -> bool:
        return bool(_CMP[self.op](observed, self.value))

    def to_dict(self) -> dict:
        return {"text": self.text, "metric": self.metric, "group": self.group,
                "op": self.op, "value": self.value}

    @classmethod
    def from_dict(cls, d: Mapping) -> Condition:
        return parse_condition(str(d["text"]))


@dataclass(frozen=True)
class ConditionState:
    """A condition evaluated on one monitoring report."""

    condition: Condition
    state: str  # holds | breached | unknown
    observed: float | None

    def to_dict(self) -> dict:
        return {**self.condition.to_dict(), "key": self.condition.key, "state": self.state,
                "observed": self.observed}


def _fail(text: str, why: str) -> ConfigError:
    return ConfigError(f"condition {text!r}: {why}")


def _metric(node: ast.AST, text: str) -> tuple[str, str | None]:
    if isinstance(node, ast.Name):
        if node.id in GROUP_METRICS:
            raise _fail(text, f"{node.id} needs an audit attribute, e.g. "
                              f"{node.id}(intervention_plan)")
        if node.id not in CONDITION_METRICS:
            raise _fail(text, f"unknown metric {node.id!r} (known: "
                              f"{', '.join([*CONDITION_METRICS, *GROUP_METRICS])})")
        return node.id, None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name not in GROUP_METRICS:
            raise _fail(text, f"{name!r} takes no argument (metrics with an attribute: "
                              f"{', '.join(GROUP_METRICS)})")
        if node.keywords or len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            raise _fail(text, f"{name} takes one audit attribute, e.g. {name}(sex)")
        group = node.args[0].id
        if group not in GROUP_ATTRIBUTES:
            raise _fail(text, f"unknown audit attribute {group!r} (known: "
                              f"{', '.join(GROUP_ATTRIBUTES)})")
        return name, group
    raise _fail(text, "expected METRIC or METRIC(attribute) on the left")


def _number(node: ast.AST, text: str) -> float:
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1.0, node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool) and math.isfinite(node.value):
        return sign * float(node.value)
    raise _fail(text, "expected a number on the right")


def parse_condition(text: str) -> Condition:
    """Parse one condition; ConfigError naming the condition when it is not in the grammar.

    Examples
    --------
    >>> parse_condition("fnr_gap(intervention_plan) <= 0.25").key
    'fnr_gap(intervention_plan)'
    """
    text = " ".join(str(text).split())
    if not text:
        raise ConfigError("condition '': empty")
    if len(text) > 200:
        raise _fail(text[:40] + "…", "longer than 200 characters")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise _fail(text, "not of the form METRIC[(attribute)] <|<=|>|>= NUMBER") from None
    if not isinstance(tree, ast.Compare) or len(tree.ops) != 1:
        raise _fail(text, "expected exactly one comparison: METRIC[(attribute)] "
                          "<|<=|>|>= NUMBER")
    op = _OPS.get(type(tree.ops[0]))
    if op is None:
        raise _fail(text, "comparator must be one of < <= > >=")
    metric, group = _metric(tree.left, text)
    return Condition(text, metric, group, op, _number(tree.comparators[0], text))


def parse_conditions(texts: Iterable[str]) -> tuple[Condition, ...]:
    """Parse every condition (duplicates kept once, in order)."""
    out: dict[str, Condition] = {}
    for t in texts:
        c = parse_condition(t)
        out.setdefault(c.text, c)
    return tuple(out.values())


def evaluate_conditions(conditions: Iterable[Condition | Mapping],
                        values: Mapping[str, float | None]) -> list[ConditionState]:
    """Each condition's state against a report's ``values`` (keyed by :attr:`Condition.key`).

    A missing or non-finite value leaves the condition ``unknown``.
    """
    out = []
    for c in conditions:
        c = c if isinstance(c, Condition) else Condition.from_dict(c)
        v = values.get(c.key)
        if v is None or not math.isfinite(float(v)):
            out.append(ConditionState(c, "unknown", None))
        else:
            out.append(ConditionState(c, "holds" if c.holds(float(v)) else "breached",
                                      float(v)))
    return out
