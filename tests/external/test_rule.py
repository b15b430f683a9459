"""Row rules: a whitelist grammar, never evaluated by Python; missing stays unknown."""

from __future__ import annotations

import pandas as pd
import pytest

from cin_ml.errors import ConfigError, DataError
from cin_ml.external import parse_rule

DF = pd.DataFrame({"G3": [5, 10, 12, None], "sex": ["F", "M", None, "F"],
                   "final grade": [1.0, 2.0, 3.0, 4.0]})


def values(rule: str) -> list:
    return [None if pd.isna(v) else bool(v) for v in parse_rule(rule).evaluate(DF)]


@pytest.mark.parametrize(("rule", "expected"), [
    ("G3 < 10", [True, False, False, None]),
    ("G3 >= 10", [False, True, True, None]),
    ("not G3 >= 10", [True, False, False, None]),
    ("0 <= G3 < 11", [True, True, False, None]),
    ("G3 == 12 or G3 == 5", [True, False, True, None]),
    ("G3 > -1 and G3 != 10", [True, False, True, None]),
    ("G3 in [5, 12]", [True, False, True, None]),
    ("sex == 'F'", [True, False, None, True]),
    ('sex not in ["M"]', [True, False, None, True]),
    ("`final grade` > 2.5", [False, False, True, True]),
])
def test_evaluate(rule, expected):
    assert values(rule) == expected


def test_columns_listed():
    r = parse_rule("G3 < 10 and sex == 'F' or `final grade` > 1")
    assert r.columns == ("G3", "sex", "final grade")


@pytest.mark.parametrize("rule", [
    "__import__('os').system('echo pwned')",
    "G3.__class__ == 1",
    "G3 + 1 < 10",
    "G3 < len('abc')",
    "(lambda: 1)() == 1",
    "G3[0] < 1",
    "G3",
    "1 < 2",
    "G3 < 10 < 20",
    "G3 is None",
    "G3 in sex",
    "G3 < [1, 2]",
])
def test_refuses_anything_else(rule):
    with pytest.raises(ConfigError, match="rule"):
        parse_rule(rule, "spec.toml [target] event").evaluate(DF)


def test_syntax_error_names_where():
    with pytest.raises(ConfigError, match=r"^spec.toml \[target\] event: rule 'G3 <' "):
        parse_rule("G3 <", "spec.toml [target] event")
    with pytest.raises(ConfigError, match="non-empty"):
        parse_rule("  ", "x")


def test_type_mismatch_and_missing_column_name_the_file():
    with pytest.raises(DataError, match="data.csv: rule .* numeric column 'G3' with text"):
        parse_rule("G3 == 'ten'").evaluate(DF, "data.csv")
    with pytest.raises(DataError, match="text column 'sex' with the number"):
        parse_rule("sex == 1").evaluate(DF, "data.csv")
    with pytest.raises(ConfigError, match="needs a number"):
        parse_rule("sex < 'M'").evaluate(DF)
    with pytest.raises(DataError, match=r"column\(s\) \['G9'\]"):
        parse_rule("G9 < 1").evaluate(DF, "data.csv")
