"""The student-level frame at a prediction point (leakage-proof: rows with ``school_year``
at or after the student's cutoff year never reach a feature)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cin_ml.errors import SchemaError
from cin_ml.features._names import (
    ABSENCE_TOTAL,
    IMSE_DECILE,
    INTERVENTION_PLAN,
    MARK_STATS,
    MOTHER_EDUCATION,
    N_RETENTIONS,
    N_SCHOOL_CHANGES,
    absence_feature,
    below_feature,
    mark_feature,
)
from cin_ml.features._policy import FeaturePolicy, decide_policy, feature_sources
from cin_ml.features._settings import FeatureSettings
from cin_ml.features._tasks import TaskSpec, get_task, task_population
from cin_ml.schema import COMPETENCIES, TABLES

AUDIT_ATTRIBUTES = ("sex", "language_group", "immigration_generation", "intervention_plan",
                    "imse_band")
NOMENCLATURE = ("maladie", "rendez_vous_medical", "raison_familiale", "suspension",
                "non_motivee", "autre")


@dataclass(frozen=True)
class FeatureFrame:
    """Features, labels, audit attributes and baseline inputs of one task's population.

    All frames are indexed by ``student_id`` in the same order. ``X`` holds only the
    features the policy allows; ``population`` has ``cohort_year``, ``cutoff_year``,
    ``label`` and ``school_id`` (last school before the cutoff, for grouped CV);
    ``audit`` the audit attributes; ``indicator`` the traditional indicator (1 = flagged).
    """

    task: TaskSpec
    X: pd.DataFrame
    population: pd.DataFrame
    audit: pd.DataFrame
    indicator: pd.Series
    policy: FeaturePolicy
    harmonization: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        lab = self.population["label"]
        return {"task": self.task.name, "n_students": int(len(self.X)),
                "n_labelled": int(lab.notna().sum()),
                "features": list(self.X.columns), "policy": self.policy.to_dict(),
                "harmonization": self.harmonization}


def _with_grade(df: pd.DataFrame, enr: pd.DataFrame, pop: pd.DataFrame) -> pd.DataFrame:
    """Join ``grade`` and keep rows strictly before each student's cutoff year."""
    df = df.merge(enr[["student_id", "school_year", "grade"]], on=["student_id", "school_year"],
                  how="inner")
    cut = df["student_id"].map(pop["cutoff_year"])
    return df.loc[cut.notna() & (df["school_year"] < cut)]


def _mark_features(marks: pd.DataFrame, spec: TaskSpec, pass_mark: float,
                   index: pd.Index) -> pd.DataFrame:
    m = marks.loc[marks["grade"].isin(spec.history_grades)
                  & marks["mark"].notna()].copy()
    m["competency"] = m["competency"].astype(str)
    m = m.sort_values(["student_id", "competency", "grade", "school_year", "term"])
    keys = ["student_id", "competency", "grade"]
    g = m.groupby(keys, sort=False)
    m["t"] = g.cumcount().astype("float64")
    m["tm"] = m["t"] * m["mark"]
    m["tt"] = m["t"] * m["t"]
    m["absdiff"] = g["mark"].diff().abs()
    agg = m.groupby(keys, sort=False).agg(
        mean=("mark", "mean"), min=("mark", "min"), last=("mark", "last"),
        n=("mark", "size"), t=("t", "mean"), tm=("tm", "mean"), tt=("tt", "mean"),
        volatility=("absdiff", "mean"))
    var_t = agg["tt"] - agg["t"] ** 2
    agg["trend"] = ((agg["tm"] - agg["t"] * agg["mean"]) / var_t).where(agg["n"] >= 2)
    wide = agg[list(MARK_STATS)].unstack(["competency", "grade"])
    names = {(s, c, gr): mark_feature(c, gr, s) for c in COMPETENCIES
             for gr in spec.history_grades for s in MARK_STATS}
    wide = wide.loc[:, [k in names for k in wide.columns]]
    wide.columns = [names[k] for k in wide.columns]
    out = wide.reindex(index=index, columns=list(names.values()))
    below = (m.loc[m["mark"] < pass_mark].groupby(["student_id", "competency"]).size()
             .unstack("competency").reindex(index=index, columns=list(COMPETENCIES)))
    has_marks = m.groupby("student_id").size().reindex(index).notna()
    for c in COMPETENCIES:
        # a student with marks but none below the pass mark has 0, not missing
        out[below_feature(c, pass_mark)] = below[c].fillna(0).where(has_marks).astype("float64")
    return out


def _indicator(marks: pd.DataFrame, spec: TaskSpec, pass_mark: float,
               index: pd.Index) -> pd.Series:
    """Traditional indicator: any French (lecture/écriture) mark below the pass mark in the
    last history grade."""
    fr = marks.loc[(marks["grade"] == spec.indicator_grade)
                   & marks["competency"].astype(str).isin(("lecture", "ecriture"))
                   & marks["mark"].notna()]
    flagged = fr.groupby("student_id")["mark"].min() < pass_mark
    return flagged.reindex(index).fillna(False).astype("int8").rename("indicator")


def _absence_features(abs_: pd.DataFrame, enr: pd.DataFrame, pop: pd.DataFrame,
                      settings: FeatureSettings, index: pd.Index) -> pd.DataFrame:
    b = settings.features
    window = b.absence_window_years
    e = enr.copy()
    cut = e["student_id"].map(pop["cutoff_year"])
    keep = cut.notna() & (e["school_year"] < cut)
    if window:
        keep &= e["school_year"] >= cut - window
    e = e.loc[keep]
    years = e.groupby("student_id").size().reindex(index)
    a = abs_.merge(e[["student_id", "school_year"]], on=["student_id", "school_year"])
    hours = (a.groupby(["student_id", "reason_category"], observed=True)["hours"].sum()
             .unstack("reason_category").reindex(index=index, columns=list(NOMENCLATURE)))
    denom = years * b.hours_per_school_year
    out = pd.DataFrame(index=index)
    for cat in NOMENCLATURE:
        out[absence_feature(cat)] = hours[cat].fillna(0.0) / denom
    out[absence_feature(ABSENCE_TOTAL)] = hours.fillna(0.0).sum(axis=1) / denom
    return out


def _parcours(enr: pd.DataFrame, pop: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    e = enr.loc[enr["school_year"] < enr["student_id"].map(pop["cutoff_year"])]
    e = e.sort_values(["student_id", "school_year"])
    g = e.groupby("student_id", sort=False)
    repeated = (g["grade"].diff() <= 0).groupby(e["student_id"]).sum()
    prev_school = g["school_id"].shift()
    changed = (prev_school.notna() & (prev_school != e["school_id"])).groupby(
        e["student_id"]).sum()
    last_school = g["school_id"].last().reindex(index).astype("string")
    out = pd.DataFrame({N_RETENTIONS: repeated, N_SCHOOL_CHANGES: changed}).reindex(index)
    return out.astype("float64").assign(last_school=last_school)


def _active_plan(plans: pd.DataFrame, pop: pd.DataFrame, index: pd.Index) -> pd.Series:
    """1 if a plan is active in the last school year before the cutoff (end year inclusive)."""
    p = plans.copy()
    year = p["student_id"].map(pop["cutoff_year"]) - 1
    end = p["end_year"].astype("Float64")
    active = (p["start_year"] <= year) & (end.isna() | (end >= year)).fillna(False)
    ids = p.loc[active.fillna(False).astype(bool), "student_id"].unique()
    return pd.Series(index.isin(ids).astype("float64"), index=index, name=INTERVENTION_PLAN)


def _imse_band(decile: pd.Series) -> pd.Series:
    band = pd.cut(decile, bins=[0, 3, 7, 10], labels=["1-3", "4-7", "8-10"])
    return band.astype("string")


def build_features(tables: dict[str, pd.DataFrame], task: TaskSpec | str,
                   settings: FeatureSettings | None = None) -> FeatureFrame:
    """Build the student-level frame of ``task`` at its prediction point.

    Parameters
    ----------
    tables
        Contract tables (source or de-identified form): students, enrolments, marks,
        absences, intervention_plans, schools and the task's label table.
    task
        ``ecriture_4e`` or ``decrochage``.
    settings
        Feature settings; ``configs/features.toml`` when ``None``.

    Returns
    -------
    FeatureFrame
        ``X`` has the allowed features (float64, NaN = missing); features never use a row
        dated at or after a student's prediction point.

    Raises
    ------
    SchemaError
        A needed table or column is missing.
    PolicyError
        The feature policy is broken (see :func:`decide_policy`).
    """
    from cin_ml.features._settings import load_feature_settings

    settings = settings or load_feature_settings()
    spec = task if isinstance(task, TaskSpec) else get_task(task)
    for name in ("students", "enrolments", "marks", "absences", "intervention_plans",
                 "schools"):
        if name not in tables:
            raise SchemaError(f"extract is missing table '{name}' (needed for features)")
    pop = task_population(tables, spec)
    index = pop.index
    enr = tables["enrolments"][["student_id", "school_year", "grade", "school_id"]]
    marks = _with_grade(tables["marks"], enr, pop)

    parts = [_mark_features(marks, spec, settings.features.pass_mark, index)]
    absences, harm = _categorized_absences(tables)
    parts.append(_absence_features(absences, enr, pop, settings, index))
    parcours = _parcours(enr, pop, index)
    last_school = parcours.pop("last_school")
    schools = tables["schools"].set_index("school_id")
    parcours[IMSE_DECILE] = last_school.map(schools["imse_decile"]).astype("float64")
    plan = _active_plan(tables["intervention_plans"], pop, index)
    students = tables["students"].set_index("student_id").reindex(index)
    ctx = pd.DataFrame({INTERVENTION_PLAN: plan,
                        MOTHER_EDUCATION: students["mother_education"].astype("float64")},
                       index=index)
    X = pd.concat(parts + [parcours[[N_RETENTIONS, N_SCHOOL_CHANGES, IMSE_DECILE]], ctx], axis=1)
    candidates = {c: feature_sources(c) for c in X.columns}
    for extra in settings.policy.extra_columns:
        t, _, col = extra.partition(".")
        if t not in ("students", "schools") or col not in TABLES[t].column_names:
            raise SchemaError(f"[policy] extra_columns: '{extra}' is not a students.* or "
                              f"schools.* contract column")
        if col not in candidates:
            candidates[col] = ((t, col),)
            src = students[col] if t == "students" else last_school.map(schools[col])
            X[col] = src.to_numpy()
    policy = decide_policy(candidates, settings.policy)
    X = X[list(policy.used)]
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype("category")
        elif X[col].dtype != "float64":
            X[col] = X[col].astype("float64")

    pop = pop.assign(school_id=last_school)
    audit = pd.DataFrame(index=index)
    for col in ("sex", "language_group", "immigration_generation"):
        audit[col] = students[col].astype("string")
    audit["intervention_plan"] = plan.astype("int8")
    audit["imse_band"] = _imse_band(parcours[IMSE_DECILE])
    ind = _indicator(marks, spec, settings.features.pass_mark, index)
    return FeatureFrame(spec, X, pop, audit, ind, policy, harm)


def _categorized_absences(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    absences = tables["absences"]
    if "reason_category" in absences.columns:
        return absences, {"source": "reason_category column of the extract"}
    from cin_ml.features._harmonize import harmonize_absences

    result = harmonize_absences(absences, tables["students"])
    return result.apply(absences), result.summary()

