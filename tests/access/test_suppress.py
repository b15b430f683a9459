"""Primary + complementary suppression: no published cell below the threshold, and no
suppressed cell recoverable by subtraction (the attack runs over every linked table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cin_ml.access import TOTAL, build_cube, recover_by_subtraction, suppress


def _records(n: int, n_rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "school_id": rng.choice([f"S{i:02d}" for i in range(n_rows)], n,
                                p=rng.dirichlet(np.ones(n_rows))),
        "grade": rng.choice(["1", "2", "3"], n),
        "sex": rng.choice(["F", "M"], n),
        "language_group": rng.choice(["francophone", "anglophone", "allophone"], n,
                                     p=[0.8, 0.12, 0.08]),
        "status": rng.choice(["a_risque", "non_a_risque"], n, p=[0.15, 0.85])})


def _linked(rec: pd.DataFrame):
    cubes = [build_cube(rec, "risk", ["school_id", "grade"],
                        {"sex": ("F", "M"), "status": ("a_risque", "non_a_risque")}),
             build_cube(rec, "risk", ["school_id", "grade"],
                        {"language_group": ("francophone", "anglophone", "allophone"),
                         "status": ("a_risque", "non_a_risque")})]
    values = {k: int(v) for c in cubes for k, v in zip(c.frame["key"], c.frame["n"],
                                                       strict=True)}
    relations = [r for c in cubes for r in c.relations()]
    return cubes, values, relations


def test_cube_totals_add_up_and_keys_link_across_breakdowns():
    rec = _records(800, 6, 0)
    cubes, values, relations = _linked(rec)
    for total, parts in relations:
        assert values[total] == sum(values[p] for p in parts)
    grand = [k for k in values if k == "risk|"]
    assert grand and values["risk|"] == len(rec)
    sex, lang = (set(c.frame["key"]) for c in cubes)
    shared = sex & lang
    # the school/grade/status totals are the same items in both tables
    assert "risk|school_id=S00|status=a_risque" in shared
    f = cubes[0].frame
    assert ((f["sex"] == "F") & (f["n"] == 0)).any() or (f["n"] > 0).all()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [3, 5, 10])
def test_no_small_cell_published_and_none_recoverable(seed, k):
    rec = _records(1500, 12, seed)
    _, values, relations = _linked(rec)
    sup = suppress(values, relations, k)
    published = {key: (None if key in sup.hidden else v) for key, v in values.items()}
    assert not [v for v in published.values() if v is not None and 0 < v < k]
    assert sup.primary <= sup.hidden
    assert not recover_by_subtraction(published, relations)
    # every relation touching a hidden item hides at least two of its items
    for total, parts in relations:
        n_hidden = sum(x in sup.hidden for x in (total, *parts))
        assert n_hidden != 1


def test_primary_only_is_recoverable_so_the_attack_has_teeth():
    rec = _records(1500, 12, 1)
    _, values, relations = _linked(rec)
    sup = suppress(values, relations, 10)
    assert sup.complementary
    naive = {key: (None if key in sup.primary else v) for key, v in values.items()}
    got = recover_by_subtraction(naive, relations).values
    assert got and all(values[key] == v for key, v in got.items())


def test_complements_prefer_positive_cells_and_threshold_one_hides_nothing():
    values = {"t": 12, "a": 2, "b": 0, "c": 10}
    sup = suppress(values, [("t", ("a", "b", "c"))], 5)
    assert sup.hidden == {"a", "c"}  # not the zero, not the total
    assert suppress(values, [("t", ("a", "b", "c"))], 1).hidden == frozenset()
    row = build_cube(pd.DataFrame({"g": ["x"] * 3}), "p", [], {"g": ("x", "y")})
    assert dict(zip(row.frame["g"], row.frame["n"], strict=True)) == {"x": 3, "y": 0, TOTAL: 3}
