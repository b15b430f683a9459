"""The student-level wide table the synthesizer learns: one row per student, no identifier.

Columns (``m_<competency>_g<grade>`` for the 4 competencies x primary grades 1-6):

==========================  ==============================================================
css_id, school_g1/g4/sec    context: CSS, school at grade 1, first grade-4 and secondary year
cohort_year, sex, ...       students columns (quasi-identifiers as generalized upstream)
birth_offset                cohort_year - birth_year (6 or 7; null when suppressed)
rep_grade, rep_primary,     first primary grade repeated (0 none), repeat years in grades
rep_secondary               1-6 and in grades 7-11
exit_status, exit_offset    outcome (``none`` if still in school) and exit_year - cohort_year
plan_type, plan_offset      intervention plan (``none``) and start_year - cohort_year
exam_mark                   grade-4 writing exam mark (null if not written)
m_*_g*                      mean mark of the first year in that grade (null if not reached)
term_trend, term_sd         per-student slope across terms 1-3 and residual spread
abs_per_year, abs_hours     absences per enrolled year; mean hours per absence
abs_<category>              share of the student's absences in each network category
==========================  ==============================================================

:func:`expansion_context` keeps what re-expansion needs and the wide table cannot carry
(last school year, school levels, raw reason strings per CSS and category, hours, the share
of missing marks); it holds no student-level value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cin_ml.schema import COMPETENCIES

__all__ = ["MARK_COLUMNS", "expansion_context", "student_table"]

PRIMARY_GRADES = range(1, 7)
MARK_COLUMNS = tuple(f"m_{c}_g{g}" for g in PRIMARY_GRADES for c in COMPETENCIES)


def _categorize_absences(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    from cin_ml.features import harmonize_absences

    ab = tables["absences"]
    h = harmonize_absences(ab, tables["students"])
    return h.apply(ab), tuple(h.categories)


def student_table(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Build the wide table from a de-identified extract, indexed by pseudonymized student id.

    Parameters
    ----------
    tables
        De-identified contract tables (at least students, enrolments, marks; absences,
        intervention_plans, ministry_exams and outcomes are used when present).
    """
    st = tables["students"].set_index("student_id")
    enr = tables["enrolments"].sort_values(["student_id", "school_year"])
    out = pd.DataFrame(index=st.index)
    out["css_id"] = st["css_id"].astype(str)
    for c in ("cohort_year", "sex", "language_group", "immigration_generation",
              "mother_education", "fsa"):
        out[c] = st[c]
    out["birth_offset"] = (st["cohort_year"] - st["birth_year"]).astype("Float64").astype(float)
    g = enr.groupby("student_id")
    out["school_g1"] = g["school_id"].first()
    out["school_g4"] = enr.loc[enr["grade"] == 4].groupby("student_id")["school_id"].first()
    out["school_sec"] = enr.loc[enr["grade"] >= 7].groupby("student_id")["school_id"].first()
    rep = enr["grade"].eq(g["grade"].shift())
    reps = enr.loc[rep]
    prim_reps = reps.loc[reps["grade"] <= 6]
    out["rep_grade"] = prim_reps.groupby("student_id")["grade"].min().reindex(out.index).fillna(0)
    out["rep_primary"] = prim_reps.groupby("student_id").size()
    out["rep_secondary"] = reps.loc[reps["grade"] >= 7].groupby("student_id").size()
    out[["rep_primary", "rep_secondary"]] = out[["rep_primary", "rep_secondary"]].fillna(0)
    out["exit_status"] = "none"
    out["exit_offset"] = np.nan
    if "outcomes" in tables:
        o = tables["outcomes"].set_index("student_id").reindex(out.index)
        out["exit_status"] = o["status"].astype(object).where(o["status"].notna(), "none")
        out["exit_offset"] = (o["exit_year"] - out["cohort_year"]).astype(float)
    out["plan_type"] = "none"
    out["plan_offset"] = np.nan
    if "intervention_plans" in tables:
        p = (tables["intervention_plans"].sort_values("start_year")
             .drop_duplicates("student_id").set_index("student_id").reindex(out.index))
        out["plan_type"] = p["plan_type"].astype(object).where(p["plan_type"].notna(), "none")
        out["plan_offset"] = (p["start_year"] - out["cohort_year"]).astype(float)
    out["exam_mark"] = np.nan
    if "ministry_exams" in tables:
        ex = tables["ministry_exams"]
        ex = ex.loc[ex["exam"] == "ecriture_4e"].set_index("student_id")["mark"]
        out["exam_mark"] = ex.reindex(out.index).astype(float)

    first_year = enr.drop_duplicates(["student_id", "grade"])[["student_id", "school_year",
                                                                "grade"]]
    m = tables["marks"].merge(first_year.loc[first_year["grade"] <= 6],
                              on=["student_id", "school_year"])
    year_mean = m.groupby(["student_id", "grade", "competency"])["mark"].transform("mean")
    wide = (m.groupby(["student_id", "grade", "competency"])["mark"].mean().unstack(
        ["grade", "competency"]))
    for g_, c in ((g_, c) for g_ in PRIMARY_GRADES for c in COMPETENCIES):
        col = wide[(g_, c)] if (g_, c) in wide.columns else pd.Series(dtype=float)
        out[f"m_{c}_g{g_}"] = col.reindex(out.index).astype(float)
    resid = m["mark"] - year_mean
    m = m.assign(resid=resid, tc=m["term"] - 2.0)
    slope = (m["tc"] * m["resid"]).groupby(m["student_id"]).sum() / (
        (m["tc"] ** 2).where(m["resid"].notna(), 0).groupby(m["student_id"]).sum())
    out["term_trend"] = slope.reindex(out.index).astype(float)
    fitted = resid - m["tc"] * slope.reindex(m["student_id"]).to_numpy()
    ss = fitted.pow(2).groupby(m["student_id"]).sum()
    n_obs = m["resid"].notna().groupby(m["student_id"]).sum()
    n_par = (m.dropna(subset=["mark"]).drop_duplicates(["student_id", "grade", "competency"])
             .groupby("student_id").size() + 1)  # one mean per grade x competency + slope
    out["term_sd"] = (ss / (n_obs - n_par).clip(lower=1)).pow(0.5).reindex(out.index)

    n_years = g.size()
    if "absences" in tables and len(tables["absences"]):
        ab, cats = _categorize_absences(tables)
        per = ab.groupby("student_id")
        out["abs_per_year"] = (per.size() / n_years).reindex(out.index).fillna(0.0)
        out["abs_hours"] = per["hours"].mean().reindex(out.index)
        counts = ab.groupby(["student_id", "reason_category"], observed=True).size().unstack(
            fill_value=0)  # pd.crosstab(normalize=) aggregates in Python: 5 s on 50k students
        shares = counts.div(counts.sum(axis=1), axis=0)
        for c in cats:
            col = shares[c] if c in shares.columns else pd.Series(dtype=float)
            out[f"abs_{c}"] = col.reindex(out.index).astype(float)
    return out


def expansion_context(tables: Mapping[str, pd.DataFrame], min_support: int = 5) -> dict:
    """Population-level facts re-expansion needs (JSON-safe; no student-level value).

    Raw absence strings used by fewer than ``min_support`` students are left out, so a rare
    free-text string (which could name someone) never reaches a virtual CSS.
    """
    schools = tables["schools"]
    marks = tables["marks"]["mark"]
    ctx = {
        "last_year": int(tables["enrolments"]["school_year"].max()),
        "school_level": dict(zip(schools["school_id"], schools["level"].astype(str),
                                 strict=True)),
        "school_css": dict(zip(schools["school_id"], schools["css_id"].astype(str),
                               strict=True)),
        "mark_missing_rate": float(marks.isna().mean()),
        "mark_whole": bool((marks.dropna() % 1 == 0).all()),
        "reasons": {}, "hours": {}, "categories": [],
    }
    if "absences" in tables and len(tables["absences"]):
        ab, cats = _categorize_absences(tables)
        ab = ab.assign(css_id=ab["student_id"].map(
            tables["students"].set_index("student_id")["css_id"]))
        ctx["categories"] = list(cats)
        support = ab.groupby(["css_id", "reason_category", "reason_raw"], observed=True)[
            "student_id"].agg(["nunique", "size"])
        support = support.loc[support["nunique"] >= min_support, "size"]
        for (css, cat, raw), n in support.items():
            ctx["reasons"].setdefault(str(css), {}).setdefault(str(cat), {})[str(raw)] = int(n)
        hours = ab.groupby(["reason_category", "hours"], observed=True).size()
        for (cat, h), n in hours.items():
            ctx["hours"].setdefault(str(cat), {})[str(float(h))] = int(n)
    return ctx
