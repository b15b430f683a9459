"""Row rules of a dataset spec (``G3 < 10``, ``sex == "F" and age >= 18``), parsed safely.

A rule is parsed with :mod:`ast` and walked against a whitelist: column names, literals
(numbers, strings, booleans, lists of them), comparisons (``< <= > >= == != in``, ``not in``,
chains such as ``0 <= G3 < 10``), ``and``, ``or``, ``not`` and parentheses. Nothing is ever
evaluated by Python: no call, attribute, subscript or arithmetic is accepted. Column names
that are not identifiers are written between backticks: ```final grade` < 10``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import ConfigError, DataError

__all__ = ["Rule", "parse_rule"]

_BACKTICK = re.compile(r"`([^`]+)`")
_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.In: "in", ast.NotIn: "not in"}


def _literal(node: ast.AST, text: str):
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, ast.Constant) and \
            isinstance(node.operand.value, int | float) and \
            not isinstance(node.operand.value, bool):
        return -node.operand.value
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(_literal(e, text) for e in node.elts)
    raise ConfigError(f"rule {text!r}: expected a number, a quoted string or a list; "
                      f"got {ast.unparse(node)!r}")


def _check(node: ast.AST, text: str, names: dict[str, str], cols: list[str]) -> None:
    """Raise ConfigError unless ``node`` only uses the whitelisted grammar."""
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, text, names, cols)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, names, cols)
    elif isinstance(node, ast.Compare):
        terms = [node.left, *node.comparators]
        for op in node.ops:
            if type(op) not in _OPS:
                raise ConfigError(f"rule {text!r}: operator {type(op).__name__} not allowed")
        for t in terms:
            if isinstance(t, ast.Name):
                col = names.get(t.id, t.id)
                if col not in cols:
                    cols.append(col)
            else:
                _literal(t, text)
        if not any(isinstance(t, ast.Name) for t in terms):
            raise ConfigError(f"rule {text!r}: a comparison must name a column")
    elif isinstance(node, ast.Name):
        raise ConfigError(f"rule {text!r}: column {names.get(node.id, node.id)!r} must be "
                          f"compared with a value (e.g. {node.id} == 1)")
    else:
        raise ConfigError(f"rule {text!r}: {ast.unparse(node)!r} is not allowed (only "
                          f"comparisons of columns with values, and, or, not)")


@dataclass(frozen=True)
class Rule:
    """A parsed row rule; :meth:`evaluate` returns a nullable boolean Series.

    A row where a column the rule reads is missing evaluates to ``<NA>`` (unknown), never to
    False: a missing grade is not a pass.
    """

    text: str
    columns: tuple[str, ...]
    _source: str
    _names: tuple[tuple[str, str], ...]

    def evaluate(self, df: pd.DataFrame, where: str = "data") -> pd.Series:
        """Evaluate on ``df``; ``where`` names the data file in error messages.

        Raises
        ------
        DataError
            A column the rule reads is absent, or compared with a value of another type.
        """
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise DataError(f"{where}: rule {self.text!r} reads column(s) {missing} "
                            f"that the file does not have")
        tree = ast.parse(self._source, mode="eval").body
        value = self._eval(tree, df, dict(self._names), where)
        unknown = np.zeros(len(df), bool)
        for c in self.columns:
            unknown |= df[c].isna().to_numpy()
        out = pd.Series(value, index=df.index, dtype="boolean")
        out[unknown] = pd.NA
        return out

    def _operand(self, node, df, names, where):
        if isinstance(node, ast.Name):
            return df[names.get(node.id, node.id)], names.get(node.id, node.id)
        return _literal(node, self.text), None

    def _eval(self, node, df, names, where) -> np.ndarray:
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v, df, names, where) for v in node.values]
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = parts[0]
            for p in parts[1:]:
                out = fn(out, p)
            return out
        if isinstance(node, ast.UnaryOp):
            return ~self._eval(node.operand, df, names, where)
        out = np.ones(len(df), bool)
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            out &= self._compare(left, _OPS[type(op)], right, df, names, where)
            left = right
        return out

    def _compare(self, left, op, right, df, names, where) -> np.ndarray:
        a, col_a = self._operand(left, df, names, where)
        b, col_b = self._operand(right, df, names, where)
        col = col_a or col_b
        if col is None:
            raise ConfigError(f"rule {self.text!r}: each comparison must name a column")
        if op in ("in", "not in"):
            if col_a is None or not isinstance(b, tuple):
                raise ConfigError(f"rule {self.text!r}: use COLUMN in [values]")
            self._types(a, b, col, where)
            hit = a.isin(list(b)).to_numpy()
            return hit if op == "in" else ~hit
        for side in (a, b):
            if isinstance(side, tuple):
                raise ConfigError(f"rule {self.text!r}: a list needs 'in' or 'not in'")
        self._types(a if col_a else b, (b,) if col_a else (a,), col, where)
        if op not in ("==", "!=") and any(isinstance(x, str) for x in (a, b)):
            raise ConfigError(f"rule {self.text!r}: {op} needs a number, not text")
        with np.errstate(invalid="ignore"):
            r = {"<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b,
                 ">=": lambda: a >= b, "==": lambda: a == b, "!=": lambda: a != b}[op]()
        return np.asarray(pd.Series(r).fillna(False).astype(bool))

    def _types(self, series, values, col, where) -> None:
        if not isinstance(series, pd.Series):
            return
        numeric = pd.api.types.is_numeric_dtype(series) and not \
            pd.api.types.is_bool_dtype(series)
        for v in values:
            if isinstance(v, str) and numeric:
                raise DataError(f"{where}: rule {self.text!r} compares numeric column "
                                f"{col!r} with text {v!r}")
            if isinstance(v, int | float) and not isinstance(v, bool) and not numeric:
                raise DataError(f"{where}: rule {self.text!r} compares text column {col!r} "
                                f"with the number {v!r}")


def parse_rule(text: str, where: str = "rule") -> Rule:
    """Parse ``text`` into a :class:`Rule` (no evaluation happens here).

    Parameters
    ----------
    text
        The rule, e.g. ``"G3 < 10"``.
    where
        What to name in error messages (spec file, section and key).

    Raises
    ------
    ConfigError
        Syntax error or a construct outside the rule grammar.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: a rule must be a non-empty string")
    text = text.strip()
    names: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        key = f"__c{len(names)}__"
        names[key] = m.group(1)
        return key

    source = _BACKTICK.sub(sub, text.strip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"{where}: rule {text!r} is not valid ({exc.msg})") from None
    cols: list[str] = []
    try:
        _check(tree.body, text, names, cols)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return Rule(text.strip(), tuple(cols), source, tuple(names.items()))
