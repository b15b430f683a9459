"""Train-on-synthetic, test-on-real: a small LightGBM check of a virtual CSS's utility.

For every task of :data:`cin_ml.tasks.TASKS`, a compact feature table is built here from the
long tables (not the feature builder's frame: the check stays the same whatever the feature
policy), at the task's prediction point, so the check also exercises the re-expansion: the
marks of the task's ``history_grades`` (first year in each grade), repeats, absences and
plans before the cut, labels from the task's label rule. The cut is the label row's school
year when the label table records one (the grade-4 exam), else the first year in
``target_grade`` (entry to secondary 1), and only students who reached it are kept.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cin_ml.features import (
    IMSE_DECILE,
    INTERVENTION_PLAN,
    MOTHER_EDUCATION,
    N_RETENTIONS,
    mark_feature,
)
from cin_ml.schema import COMPETENCIES
from cin_ml.tasks import TASKS, get_task, task_labels

__all__ = ["task_frame", "utility_check"]

_CATS = ("sex", "language_group", "immigration_generation")


def task_frame(tables: Mapping[str, pd.DataFrame], task: str) -> tuple[pd.DataFrame, pd.Series]:
    """Features and 0/1 label (1 = failure / dropout) of the labelled students of ``task``."""
    spec = get_task(task)
    st = tables["students"].set_index("student_id")
    enr = tables["enrolments"].sort_values(["student_id", "school_year"])
    y = task_labels(tables, spec).astype(int).rename_axis("student_id")
    max_grade = max(spec.history_grades)
    rule = spec.label
    rows = tables[rule.table]
    if "school_year" in rows.columns:  # a dated label (the exam): history stops before it
        if rule.where_column:
            rows = rows.loc[rows[rule.where_column].astype(str) == rule.where_value]
        cut = rows.set_index("student_id")["school_year"]
    else:  # an outcome: history stops at entry to the target grade, which must be reached
        cut = (enr.loc[enr["grade"] >= spec.target_grade]
               .groupby("student_id")["school_year"].min())
        y = y.loc[y.index.isin(cut.index)]
    cut = cut.reindex(y.index)
    e = enr.loc[enr["student_id"].isin(y.index)]
    e = e.loc[e["school_year"].to_numpy() < cut.reindex(e["student_id"]).to_numpy()]
    X = pd.DataFrame(index=y.index)
    first = e.drop_duplicates(["student_id", "grade"])
    m = tables["marks"].merge(first.loc[first["grade"] <= max_grade,
                                        ["student_id", "school_year", "grade"]])
    wide = m.groupby(["student_id", "grade", "competency"])["mark"].mean().unstack(
        ["competency", "grade"])
    for c in COMPETENCIES:
        for g in range(1, max_grade + 1):
            col = wide[(c, g)].reindex(X.index) if (c, g) in wide else np.nan
            X[mark_feature(c, g, "mean")] = col
    X[N_RETENTIONS] = (e.groupby("student_id")["grade"].size()
                       - e.groupby("student_id")["grade"].nunique()).reindex(X.index)
    if "absences" in tables:
        ab = tables["absences"]
        ab = ab.loc[ab["student_id"].isin(X.index)]
        ab = ab.loc[ab["school_year"].to_numpy() < cut.reindex(ab["student_id"]).to_numpy()]
        years = e.groupby("student_id").size()
        X["absence_hours_per_year"] = (ab.groupby("student_id")["hours"].sum() / years
                                       ).reindex(X.index).fillna(0.0)
    if "intervention_plans" in tables:
        p = tables["intervention_plans"]
        p = p.loc[p["student_id"].isin(X.index)]
        p = p.loc[p["start_year"].to_numpy() < cut.reindex(p["student_id"]).to_numpy()]
        X[INTERVENTION_PLAN] = X.index.isin(p["student_id"]).astype(int)
    X[MOTHER_EDUCATION] = pd.to_numeric(st["mother_education"]).reindex(X.index).astype(float)
    school = first.loc[first["grade"] == 1].set_index("student_id")["school_id"]
    imse = tables["schools"].set_index("school_id")["imse_decile"]
    X[IMSE_DECILE] = school.map(imse).reindex(X.index).astype(float)
    for c in _CATS:
        X[c] = pd.Categorical(st[c].reindex(X.index), categories=sorted(st[c].dropna().unique()))
    X["cohort_year"] = st["cohort_year"].reindex(X.index).astype(float)
    return X, y.loc[X.index]


def _fit(X, y, seed, n_threads, n_trees):
    import lightgbm as lgb

    model = lgb.LGBMClassifier(n_estimators=n_trees, learning_rate=0.05, num_leaves=15,
                               min_child_samples=20, subsample=0.8, subsample_freq=1,
                               colsample_bytree=0.8, random_state=seed, n_jobs=n_threads,
                               verbose=-1)
    model.fit(X.drop(columns="cohort_year"), y)
    return model


def utility_check(source: Mapping[str, pd.DataFrame], virtual: Mapping[str, pd.DataFrame],
                  holdout: Mapping[str, pd.DataFrame], *, seed: int = 0, n_threads: int = 1,
                  n_trees: int = 200, top: int = 10) -> dict:
    """AUC on held-out source students of a model trained on the virtual CSS vs on source.

    Returns per task: both AUCs, their ratio, the top drivers (gain) of both models and their
    overlap (share of the ``top`` drivers in common).
    """
    from sklearn.metrics import roc_auc_score

    out = {}
    for task in TASKS:
        Xs, ys = task_frame(source, task)
        Xv, yv = task_frame(virtual, task)
        Xh, yh = task_frame(holdout, task)
        if min(ys.nunique(), yv.nunique(), yh.nunique()) < 2 or len(yh) < 20:
            out[task] = {"skipped": f"too few labelled students (source {len(ys)}, "
                                    f"virtual {len(yv)}, holdout {len(yh)})"}
            continue
        Xv = Xv.reindex(columns=Xs.columns)
        res = {}
        drivers = {}
        for name, (X, y) in {"source": (Xs, ys), "virtual": (Xv, yv)}.items():
            model = _fit(X, y, seed, n_threads, n_trees)
            p = model.predict_proba(Xh.drop(columns="cohort_year"))[:, 1]
            res[f"auc_{name}"] = round(float(roc_auc_score(yh, p)), 4)
            gain = pd.Series(model.booster_.feature_importance("gain"),
                             index=model.booster_.feature_name()).sort_values(ascending=False)
            drivers[name] = list(gain.index[:top])
        res["ratio"] = round(res["auc_virtual"] / res["auc_source"], 4)
        res["top_drivers"] = drivers
        res["top_driver_overlap"] = round(
            len(set(drivers["source"]) & set(drivers["virtual"])) / max(len(drivers["source"]),
                                                                       1), 4)
        res["n"] = {"source": int(len(ys)), "virtual": int(len(yv)), "holdout": int(len(yh))}
        res["rate"] = {"source": round(float(ys.mean()), 4), "virtual": round(float(yv.mean()), 4)}
        out[task] = res
    return out
