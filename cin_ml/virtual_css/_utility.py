"""Train-on-synthetic, test-on-real: a small LightGBM check of a virtual CSS's utility.

The feature table is built here from the long tables (virtual_css may not import
``cin_ml.features``), at each task's prediction point, so the check also exercises the
re-expansion: ``ecriture_4e`` uses grades 1-3 (first year in each grade), repeats, absences
and plans before the exam year; ``decrochage`` uses grades 1-6 and primary history.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cin_ml.schema import COMPETENCIES

__all__ = ["TASKS", "task_frame", "utility_check"]

TASKS = ("ecriture_4e", "decrochage")
_CATS = ("sex", "language_group", "immigration_generation")


def task_frame(tables: Mapping[str, pd.DataFrame], task: str) -> tuple[pd.DataFrame, pd.Series]:
    """Features and 0/1 label (1 = failure / dropout) of the labelled students of ``task``."""
    st = tables["students"].set_index("student_id")
    enr = tables["enrolments"].sort_values(["student_id", "school_year"])
    if task == "ecriture_4e":
        ex = tables["ministry_exams"]
        ex = ex.loc[ex["exam"] == "ecriture_4e"].set_index("student_id")
        y = (~ex["passed"].astype(bool)).astype(int)
        cut, max_grade = ex["school_year"], 3
    else:
        o = tables["outcomes"].set_index("student_id")
        y = (o["status"] == "decrochage").astype(int)
        g7 = enr.loc[enr["grade"] >= 7].groupby("student_id")["school_year"].min()
        y = y.loc[y.index.isin(g7.index)]
        cut, max_grade = g7, 6
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
            X[f"{c}_g{g}_mean"] = wide[(c, g)].reindex(X.index) if (c, g) in wide else np.nan
    X["n_retentions"] = (e.groupby("student_id")["grade"].size()
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
        X["intervention_plan"] = X.index.isin(p["student_id"]).astype(int)
    X["mother_education"] = pd.to_numeric(st["mother_education"]).reindex(X.index).astype(float)
    school = first.loc[first["grade"] == 1].set_index("student_id")["school_id"]
    imse = tables["schools"].set_index("school_id")["imse_decile"]
    X["imse_decile"] = school.map(imse).reindex(X.index).astype(float)
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
