"""Features at a prediction point: names, leakage, hand-checked statistics, policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cin_ml.errors import PolicyError
from cin_ml.features import (
    AUDIT_ATTRIBUTES,
    MARK_STATS,
    NOMENCLATURE,
    FeatureSettings,
    PolicySettings,
    absence_feature,
    below_feature,
    build_features,
    decide_policy,
    feature_family,
    load_feature_settings,
    mark_feature,
    parse_feature,
    task_population,
)
from cin_ml.schema import COMPETENCIES


@pytest.fixture(scope="module")
def frames(small_sim):
    return {t: build_features(small_sim.tables, t) for t in ("ecriture_4e", "decrochage")}


def test_feature_names_follow_the_contract(frames):
    X = frames["ecriture_4e"].X
    assert "lecture_g3_mean" in X and "raisonner_g1_volatility" in X
    assert not any("_g4_" in c for c in X.columns)          # nothing from the exam year
    assert "ecriture_g6_last" in frames["decrochage"].X
    for c in ("absence_rate_total", "absence_rate_non_motivee", "intervention_plan",
              "n_retentions", "n_school_changes", "imse_decile", "mother_education",
              "lecture_n_below_60"):
        assert c in X
    assert {feature_family(c) for c in X.columns} == {
        "lecture", "ecriture", "resoudre", "raisonner", "absences", "parcours", "contexte",
        "plan"}
    assert all(X.dtypes == "float64")
    assert tuple(frames["ecriture_4e"].audit.columns) == AUDIT_ATTRIBUTES


def test_labels_match_the_exam_table(small_sim, frames):
    pop = frames["ecriture_4e"].population
    ex = small_sim.tables["ministry_exams"].set_index("student_id")
    lab = pop["label"].dropna()
    assert len(lab) == len(ex)
    assert (lab == (~ex.loc[lab.index, "passed"]).astype(int)).all()
    # the cutoff is the exam year: features stop the year before
    assert (pop.loc[lab.index, "cutoff_year"] == ex.loc[lab.index, "school_year"]).all()


def test_no_row_at_or_after_the_prediction_point_changes_a_feature(small_sim, frames):
    task = "ecriture_4e"
    t = dict(small_sim.tables)
    pop = task_population(t, task)
    for name in ("marks", "absences"):
        df = t[name]
        late = df["school_year"] >= df["student_id"].map(pop["cutoff_year"]).fillna(9999)
        assert late.any()
        if name == "marks":
            df = df.assign(mark=df["mark"].where(~late, 0.0))
        else:
            df = df.assign(hours=df["hours"].where(~late, 8.0))
        t[name] = df
    plans = t["intervention_plans"]
    later = plans.assign(start_year=plans["student_id"].map(pop["cutoff_year"]).fillna(3000)
                         .astype("int64"))
    t["intervention_plans"] = pd.concat([plans.iloc[:0], later])  # only future plans
    after = build_features(t, task)
    before = frames[task]
    cols = [c for c in before.X.columns if c != "intervention_plan"]
    pd.testing.assert_frame_equal(before.X[cols], after.X[cols])
    assert after.X["intervention_plan"].sum() == 0   # plans starting at the cutoff: unseen


def test_mark_statistics_by_hand(small_sim, frames):
    X = frames["ecriture_4e"].X
    marks = small_sim.tables["marks"].merge(small_sim.tables["enrolments"],
                                            on=["student_id", "school_year"])
    sid = X.index[(X["lecture_g2_mean"].notna()) & (X["n_retentions"] == 0)][5]
    m = marks.loc[(marks.student_id == sid) & (marks.grade == 2)
                  & (marks.competency == "lecture")].sort_values("term")["mark"].dropna()
    v = m.to_numpy()
    assert X.loc[sid, "lecture_g2_mean"] == pytest.approx(v.mean())
    assert X.loc[sid, "lecture_g2_min"] == pytest.approx(v.min())
    assert X.loc[sid, "lecture_g2_last"] == pytest.approx(v[-1])
    assert X.loc[sid, "lecture_g2_trend"] == pytest.approx(np.polyfit(np.arange(len(v)), v, 1)[0])
    assert X.loc[sid, "lecture_g2_volatility"] == pytest.approx(np.abs(np.diff(v)).mean())


def test_policy_records_the_justification_and_excludes_unjustified(small_sim, frames):
    pol = frames["ecriture_4e"].policy.to_dict()
    assert "intervention_plan" in pol["features_used"]
    assert "EHDAA" in pol["justifications"]["intervention_plan"]
    base = load_feature_settings()
    no_just = FeatureSettings(features=base.features, policy=PolicySettings())
    fr = build_features(small_sim.tables, "ecriture_4e", no_just)
    assert "intervention_plan" not in fr.X
    assert "intervention_plan" in fr.policy.excluded
    assert "intervention_plan" in fr.audit       # still audited, just not a feature


def test_policy_refuses_identifiers_and_workforce(small_sim):
    with pytest.raises(PolicyError, match="workforce"):
        decide_policy({"teacher_experience": (("teachers", "years_experience"),)},
                      PolicySettings())
    with pytest.raises(PolicyError, match="never allowed"):
        decide_policy({"exam": (("ministry_exams", "mark"),)}, PolicySettings(
            justifications={"exam": "because"}))
    base = load_feature_settings()
    bad = FeatureSettings(features=base.features,
                          policy=PolicySettings(extra_columns=("students.first_name",)))
    with pytest.raises(PolicyError, match="direct_identifier"):
        build_features(small_sim.tables, "ecriture_4e", bad)


def test_sensitive_extra_column_needs_a_justification(small_sim):
    base = load_feature_settings()
    want = ("students.language_group",)
    fr = build_features(small_sim.tables, "ecriture_4e", FeatureSettings(
        features=base.features, policy=PolicySettings(extra_columns=want)))
    assert "language_group" not in fr.X
    fr = build_features(small_sim.tables, "ecriture_4e", FeatureSettings(
        features=base.features, policy=PolicySettings(
            extra_columns=want, justifications={"language_group": "research question"})))
    assert fr.X["language_group"].dtype == "category"
    assert fr.policy.justifications == {"language_group": "research question"}


_FIXED = {"intervention_plan": ("plan", "plan"), "n_retentions": ("parcours", "count"),
          "n_school_changes": ("parcours", "count"), "imse_decile": ("contexte", "decile"),
          "mother_education": ("contexte", "education")}


def _built_from(task, pass_mark: float) -> dict[str, dict]:
    """Every candidate name of ``task`` from the constructors, with the parts it is made of."""
    out: dict[str, dict] = {}
    for c in COMPETENCIES:
        for g in task.history_grades:
            for st in MARK_STATS:
                kind = st if st in ("trend", "volatility") else "mark"
                out[mark_feature(c, g, st)] = dict(family=c, kind=kind, competency=c, grade=g,
                                                   stat=st, detail=None)
        out[below_feature(c, pass_mark)] = dict(family=c, kind="count_below", competency=c,
                                                grade=None, stat=None, detail=f"{pass_mark:g}")
    for cat in (*NOMENCLATURE, "total"):
        out[absence_feature(cat)] = dict(family="absences", kind="absence_rate", competency=None,
                                         grade=None, stat=None, detail=cat)
    for name, (fam, kind) in _FIXED.items():
        out[name] = dict(family=fam, kind=kind, competency=None, grade=None, stat=None,
                         detail=name if kind == "count" else None)
    return out


def test_every_built_name_parses_back_to_its_parts(frames):
    from cin_ml.explain import describe_feature, family_map

    pass_mark = load_feature_settings().features.pass_mark
    for task, fr in frames.items():
        candidates = {d.feature: d for d in fr.policy.decisions}
        assert set(fr.X.columns) <= set(candidates)
        expected = _built_from(fr.task, pass_mark)
        assert set(candidates) == set(expected), task
        fams = family_map(list(candidates))
        for name, parts in expected.items():
            info = parse_feature(name)
            assert {k: getattr(info, k) for k in parts} == parts, name
            # the family the policy and explanations use is the parsed one
            assert feature_family(name) == fams[name] == info.family, name
            assert describe_feature(name) == info
            sources = candidates[name].sources
            assert (info.family in COMPETENCIES) == ("marks.mark" in sources), name
            assert (info.family == "absences") == ("absences.hours" in sources), name


def test_grammar_constructors_and_names_outside_it():
    assert below_feature("lecture", 55.5) == "lecture_n_below_55.5"
    assert parse_feature("lecture_n_below_55.5").detail == "55.5"
    for bad in (lambda: mark_feature("latin", 3, "mean"), lambda: mark_feature("lecture", 3, "max"),
                lambda: below_feature("lecture", 160), lambda: absence_feature("non motivee")):
        with pytest.raises(ValueError):
            bad()
    # raw extra columns and spec columns are context; a known prefix keeps its family
    for name, fam in (("study time", "contexte"), ("language_group", "contexte"),
                      ("lecture_score", "lecture"), ("absence_rate_x y", "absences"),
                      ("n_retentions_primary", "parcours")):
        info = parse_feature(name)
        assert (info.family, info.kind) == (fam, "other"), name
    assert parse_feature("intervention_plan_type").kind == "plan"
