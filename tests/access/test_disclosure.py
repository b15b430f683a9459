"""Issue 15, disclosure: every attack is tried on real outputs of ``cin-ml predict`` and
must fail. CSV cells cannot be read as spreadsheet formulas."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from .conftest import MODEL

FORMULA = "=cmd|' /C calc'!A0"


def _predict(served, data, role, scope, out, **kw):
    from cin_ml.pipeline import run_predict

    return run_predict(f"{MODEL}@champion", data, role, scope, out=out,
                       tracking_uri=served["uri"], **kw)


# ----------------------------------------------------------------------------- CSV injection
def test_csv_safe_prefixes_formula_cells_only():
    from cin_ml.extract import csv_safe

    df = pd.DataFrame({"t": [FORMULA, "+1", "-2", "@SUM(A1)", "\tx", "\ry", "ok", None],
                       "n": [1, -2, 3, 4, 5, 6, 7, 8]})
    got = csv_safe(df)
    assert got["t"].tolist() == ["'" + FORMULA, "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\ry",
                                 "ok", None]
    assert got["n"].tolist() == df["n"].tolist()  # numbers stay numbers


def test_a_formula_last_name_reaches_students_csv_inert(network, served, tmp_path):
    src = tmp_path / "source"
    shutil.copytree(network["source"], src)
    st = pd.read_parquet(src / "students.parquet")
    enr = network["tables"]["enrolments"]
    last = enr["school_year"].max()
    g3 = enr.loc[(enr["school_year"] == last) & (enr["grade"] == 3)]
    school = g3["school_id"].value_counts().index[0]
    victim = g3.loc[g3["school_id"] == school, "student_id"].iloc[0]
    st.loc[st["student_id"] == victim, "last_name"] = FORMULA
    st.loc[st["student_id"] == victim, "first_name"] = "@SUM(A1:A9)"
    st.to_parquet(src / "students.parquet", index=False)
    _predict(served, src, "school", school, tmp_path / "out")
    folder = tmp_path / "out" / "predict" / f"school-{school}"
    raw = (folder / "students.csv").read_text(encoding="utf-8")
    cells = [c.strip('"') for line in raw.splitlines() for c in line.split(",")]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], "live formula"
    csv = pd.read_csv(folder / "students.csv", dtype=str, keep_default_na=False)
    row = csv.loc[csv["student_id"] == victim].iloc[0]
    assert row["last_name"] == "'" + FORMULA and row["first_name"] == "'@SUM(A1:A9)"
    pq = pd.read_parquet(folder / "students.parquet")  # Parquet keeps the raw values
    assert pq.loc[pq["student_id"] == victim, "last_name"].iloc[0] == FORMULA


# ----------------------------------------------------------------------------- the attacker
def test_the_attacker_uses_zeros_non_negativity_and_combinations():
    from cin_ml.access import recover_by_subtraction

    # a hidden group of 3 with zeros published beside its one hidden band: whole group
    got = recover_by_subtraction({"t": None, "a": None, "b": 0, "c": 0},
                                 [("t", ("a", "b", "c"))])
    assert got.whole_groups == {"t": "a"} and not got.values
    # a total already met by its published parts: the hidden parts are 0
    got = recover_by_subtraction({"t": 5, "a": 5, "b": None, "c": None},
                                 [("t", ("a", "b", "c"))])
    assert got.values == {"b": 0, "c": 0}
    # two unknowns in every relation, yet x = (A - B + C) / 2
    got = recover_by_subtraction({"A": 7, "B": 5, "C": 6, "x": None, "y": None, "z": None},
                                 [("A", ("x", "y")), ("B", ("y", "z")), ("C", ("x", "z"))])
    assert got.values == {"x": 4, "y": 3, "z": 2}
    # one relation with its only part: t == p is structure, not a disclosure
    assert not recover_by_subtraction({"t": None, "p": None}, [("t", ("p",))])
    # a 2 x 2 block of hidden cells with published margins holds
    pub = {"r1": 9, "r2": 8, "c1": 7, "c2": 10, "a": None, "b": None, "c": None, "d": None}
    assert not recover_by_subtraction(pub, [("r1", ("a", "b")), ("r2", ("c", "d")),
                                            ("c1", ("a", "c")), ("c2", ("b", "d"))])


def test_suppression_covers_zero_implied_cells():
    from cin_ml.access import recover_by_subtraction, suppress

    values = {"t": 3, "a": 3, "b": 0, "c": 0}
    rel = [("t", ("a", "b", "c"))]
    sup = suppress(values, rel, 5)
    assert {"t", "a"} < sup.hidden  # a zero is hidden beside the group
    assert not recover_by_subtraction({k: None if k in sup.hidden else v
                                       for k, v in values.items()}, rel)


# ----------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def css5k(tmp_path_factory):
    """A simulated 5,000-student CSS (source form, with its agreements)."""
    from cin_ml.simulator import SimulationConfig, simulate, write_simulation

    root = tmp_path_factory.mktemp("css5k")
    sim = simulate(SimulationConfig(n_css=1, n_students=5000, seed=7))
    write_simulation(sim, root / "source", root / "truth")
    return root / "source"


def _old_suppress(values, relations, min_cell_size, **_kw):
    """The suppression before issue 15: one more item in every relation with exactly one
    hidden item, zeros last, nothing else."""
    from collections import defaultdict

    from cin_ml.access import Suppression

    rels = list(dict.fromkeys((t, tuple(p)) for t, p in relations))
    by_item = defaultdict(list)
    for i, (t, parts) in enumerate(rels):
        for k in (t, *parts):
            by_item[k].append(i)
    primary = {k for k, v in values.items() if 0 < v < min_cell_size}
    hidden = set(primary)
    work = sorted({i for k in hidden for i in by_item[k]})
    while work:
        t, parts = rels[work.pop()]
        items = (t, *parts)
        if sum(k in hidden for k in items) != 1:
            continue
        pick = min((k for k in items if k not in hidden),
                   key=lambda k: (k == t, values[k] == 0, values[k], k))
        hidden.add(pick)
        work.extend(by_item[pick])
    return Suppression(min_cell_size, frozenset(hidden), frozenset(primary))


def test_zeros_beside_hidden_groups_disclosed_before_and_nothing_now(css5k, served,
                                                                       tmp_path, monkeypatch):
    """On a 5,000-student CSS the old suppression let the attacker read whole groups off
    the zeros published beside them; `run_predict` now refuses such a report, and the CSS
    and ministry reports it writes give the attacker nothing, read back from CSV and
    Parquet alike."""
    import cin_ml.access._reports as reports
    from cin_ml.access import attack_tables
    from cin_ml.errors import PolicyError

    monkeypatch.setattr(reports, "suppress", _old_suppress)
    with pytest.raises(PolicyError, match="attacker recovers"):
        _predict(served, css5k, "css", "CSS001", tmp_path / "old")
    assert not (tmp_path / "old" / "predict" / "css-CSS001").exists()  # nothing written
    monkeypatch.undo()

    for role, scope, k in (("css", "CSS001", 5), ("ministry", "network", 10)):
        s = _predict(served, css5k, role, scope, tmp_path / "new")
        folder = tmp_path / "new" / "predict" / f"{role}-{scope}"
        for fmt in ("csv", "parquet"):
            tables = {}
            for name in ("risk", "results"):
                f = folder / f"{name}.{fmt}"
                df = (pd.read_parquet(f) if fmt == "parquet" else
                      pd.read_csv(f, dtype={"school_id": str, "css_id": str, "grade": str,
                                            "group": str}))
                tables[name] = df
            assert tables["results"].filter(like="n_").isna().any().any()  # suppression ran
            leak = attack_tables(tables, k)
            assert not leak, (role, fmt, leak.to_dict())
        assert s["suppression"]["n_complementary"] > 0
        _pages_show_hidden_counts_as_x(folder, role)


def _pages_show_hidden_counts_as_x(folder, role):
    """The pages (summary + one per school or CSS) print nothing the tables hide: a unit
    whose count at risk is hidden shows ``x`` for it and for its rate, on its page."""
    import re

    from cin_ml.access import TOTAL
    from cin_ml.glossary import fmt_int

    row, sub = ("school_id", "schools") if role == "css" else ("css_id", "css")
    risk = pd.read_parquet(folder / "risk.parquet")
    assert TOTAL not in set(risk["grade"])  # one grade scored: no total repeating it
    units = risk.loc[(risk["breakdown"] == "ensemble") & (risk[row] != TOTAL)]
    summary = (folder / "report.html").read_text(encoding="utf-8")
    for rec in units.to_dict("records"):
        assert f'href="{sub}/{rec[row]}.html"' in summary
        page = (folder / sub / f"{rec[row]}.html").read_text(encoding="utf-8")
        shown = re.findall(r'<div class="figure"><b>([^<]*)</b>', page)
        assert shown[0] == fmt_int(int(rec["n_students"]), "fr")  # its total, published
        if pd.isna(rec["n_at_risk"]):
            assert shown[1:3] == ["x", "x"], rec[row]
