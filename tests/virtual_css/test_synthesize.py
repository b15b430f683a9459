"""Synthesis: contract, invariants of re-expansion, reproducibility, saved model, bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cin_ml.errors import DataError, SchemaError
from cin_ml.schema import COMPETENCIES, validate_extract
from cin_ml.virtual_css import load_synthesizer, sample_virtual_css, student_table, synthesize

sys.path.insert(0, str(Path(__file__).parent))
from _source_factory import simulated, virtual  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    return virtual()


def check_invariants(t: dict[str, pd.DataFrame], last_year: int) -> None:
    """Invariants of the contract a downstream step relies on."""
    validate_extract(t, required=list(t), form="deidentified")
    enr = t["enrolments"].sort_values(["student_id", "school_year"])
    st_ = t["students"].set_index("student_id")
    first = enr.groupby("student_id").first()
    assert (first["grade"] == 1).all()
    assert (first["school_year"] == st_.loc[first.index, "cohort_year"]).all()
    g = enr.groupby("student_id")
    assert g["school_year"].diff().dropna().eq(1).all()          # consecutive years
    assert g["grade"].diff().dropna().isin([0, 1]).all()         # progress or repeat
    assert enr["school_year"].max() <= last_year
    m = t["marks"].merge(enr[["student_id", "school_year", "grade"]])
    assert len(m) == len(t["marks"]) and (m["grade"] <= 6).all()
    assert m["mark"].dropna().between(0, 100).all()
    per = m.groupby(["student_id", "school_year"]).size()
    assert (per == 3 * len(COMPETENCIES)).all()
    ex = t["ministry_exams"].merge(enr[["student_id", "school_year", "grade"]])
    assert (ex["grade"] == 4).all()
    g4 = enr.loc[enr["grade"] == 4].groupby("student_id")["school_year"].min()
    assert (ex.set_index("student_id")["school_year"] == g4.reindex(ex["student_id"]).to_numpy()
            ).all()
    assert (ex["passed"] == (ex["mark"] >= 60)).all()
    last = g["school_year"].max()
    o = t["outcomes"].set_index("student_id")
    assert (o["exit_year"] == last.reindex(o.index)).all()
    levels = t["schools"].set_index("school_id")["level"]
    assert (enr.loc[enr["grade"] >= 7, "school_id"].map(levels) == "secondaire").all()
    assert (enr.loc[enr["grade"] <= 6, "school_id"].map(levels) == "primaire").all()


def test_virtual_css_keeps_the_contract_and_invariants(fitted):
    train, _, v = fitted
    t = v.tables
    assert set(t) == {"css", "schools", "students", "enrolments", "marks", "absences",
                      "intervention_plans", "ministry_exams", "outcomes"}  # no workforce
    check_invariants(t, int(train["enrolments"]["school_year"].max()))
    assert not set(t["students"]["student_id"]) & set(train["students"]["student_id"])
    assert t["students"]["student_id"].str.startswith("V-").all()
    assert t["enrolments"]["class_group_id"].str.startswith("V-").all()
    # only raw absence strings used by >= 5 source students, and no unseen string
    ab = train["absences"]
    support = ab.groupby("reason_raw")["student_id"].nunique()
    assert set(t["absences"]["reason_raw"]) <= set(support[support >= 5].index)
    assert t["absences"]["date"].dt.dayofweek.lt(5).all()
    # sizes and label rates in the right range
    assert len(t["students"]) == len(train["students"])
    for name in ("marks", "enrolments", "absences"):
        assert 0.8 < len(t[name]) / len(train[name]) < 1.25, name
    fail_v = 1 - t["ministry_exams"]["passed"].mean()
    fail_s = 1 - train["ministry_exams"]["passed"].mean()
    assert abs(fail_v - fail_s) < 0.06


def test_wide_table_has_no_identifier_and_explicit_sdtypes(fitted):
    _, _, v = fitted
    assert "student_id" not in v.source_students.columns
    meta = v.model.get_metadata().to_dict()["tables"]["students"]["columns"]
    sdtypes = {c: m["sdtype"] for c, m in meta.items()}
    assert set(sdtypes.values()) <= {"numerical", "categorical"}
    assert sdtypes["school_g1"] == sdtypes["fsa"] == sdtypes["rep_grade"] == "categorical"
    assert sdtypes["m_ecriture_g3"] == "numerical"


def test_seeded_reproducible_and_saved_model_replays(fitted, tmp_path):
    train, _, v = fitted
    again = synthesize(train, seed=v.seed)
    for name in v.tables:
        pd.testing.assert_frame_equal(v.tables[name], again.tables[name])
    other = synthesize(train, seed=v.seed + 1)
    assert not other.tables["marks"]["mark"].equals(v.tables["marks"]["mark"])
    v.save_model(tmp_path / "model")
    model, ctx = load_synthesizer(tmp_path / "model")
    _, tables = sample_virtual_css(model, ctx, train, len(v.virtual_students), v.seed)
    pd.testing.assert_frame_equal(tables["marks"], v.tables["marks"])
    with pytest.raises(DataError, match="not a saved"):
        load_synthesizer(tmp_path)


def test_bad_inputs_are_refused():
    source, _, _, d = simulated()
    with pytest.raises(SchemaError, match="direct identifier"):
        synthesize(source)
    no_marks = {k: v for k, v in d.tables.items() if k != "marks"}
    with pytest.raises(SchemaError, match="marks"):
        synthesize(no_marks)
    ids = d.tables["students"]["student_id"].iloc[:30]
    tiny = {k: (v.loc[v["student_id"].isin(ids)] if "student_id" in v else v)
            for k, v in d.tables.items()}
    with pytest.raises(DataError, match="at least 50"):
        synthesize(tiny)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(1, 60), noise=st.floats(0, 40))
def test_any_synthetic_rows_expand_into_a_valid_extract(fitted, seed, n, noise):
    """Whatever the synthesizer samples (odd values, nulls, out-of-range), re-expansion
    yields a contract-valid extract with the invariants."""
    from cin_ml.virtual_css.synthesis import expand_students

    train, _, v = fitted
    rng = np.random.default_rng(seed)
    wide = v.virtual_students.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    num = [c for c in wide.columns if pd.api.types.is_float_dtype(wide[c])]
    wide[num] = wide[num] + rng.normal(0, noise, (n, len(num)))
    holes = rng.random(wide.shape) < 0.15
    wide = wide.mask(holes)
    wide["cohort_year"] = wide["cohort_year"].fillna(2015)
    for c in ("css_id", "sex", "language_group", "immigration_generation", "school_g1"):
        wide[c] = wide[c].fillna(v.virtual_students[c].iloc[0])
    tables = expand_students(wide, v.context, train, rng)
    check_invariants(tables, v.context["last_year"])


def test_student_table_round_trip_is_faithful(fitted):
    train, _, _ = fitted
    from cin_ml.virtual_css.synthesis import expand_students, expansion_context

    w = student_table(train)
    back = student_table(expand_students(w, expansion_context(train), train,
                                         np.random.default_rng(0)))
    for c in ("cohort_year", "rep_primary", "exit_offset", "exam_mark"):
        assert back[c].mean() == pytest.approx(w[c].mean(), rel=1e-6, nan_ok=True), c
    for c in ("m_ecriture_g3", "abs_per_year", "abs_non_motivee"):
        assert back[c].mean() == pytest.approx(w[c].mean(), rel=0.03), c
