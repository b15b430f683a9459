"""Issue 15, disclosure: every attack is tried on real outputs of ``cin-ml predict`` and
must fail. CSV cells cannot be read as spreadsheet formulas."""

from __future__ import annotations

import shutil

import pandas as pd

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
