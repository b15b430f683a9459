"""Prediction tasks: who is predicted, when (the prediction point) and the label."""

from __future__ import annotations

import pandas as pd

from cin_ml.schema import require_columns
from cin_ml.tasks import TaskSpec, get_task, task_labels

__all__ = ["task_population"]


def task_population(tables: dict[str, pd.DataFrame], task: TaskSpec | str) -> pd.DataFrame:
    """Students predicted for ``task``, their prediction point and label.

    Returns a frame indexed by ``student_id`` with ``cohort_year``, ``cutoff_year`` (first
    school year that may *not* feed features) and ``label`` (``Int8``: 1 event, 0 no event,
    ``<NA>`` unlabelled). A student enters the population once enrolled in
    ``target_grade`` (the prediction point is behind them), or when they finished the grade
    before it in the extract's last year (to be scored now, unlabelled).
    """
    spec = task if isinstance(task, TaskSpec) else get_task(task)
    students = require_columns(tables, "students", ("student_id", "cohort_year"))
    enr = require_columns(tables, "enrolments", ("student_id", "school_year", "grade"))
    last_year = int(enr["school_year"].max())
    first_target = (enr.loc[enr["grade"] == spec.target_grade]
                    .groupby("student_id", observed=True)["school_year"].min())
    last_rows = enr.sort_values("school_year").groupby("student_id").tail(1)
    pending = last_rows.loc[(last_rows["grade"] == spec.target_grade - 1)
                            & (last_rows["school_year"] == last_year)]
    pending = pd.Series(last_year + 1, index=pending["student_id"].to_numpy())
    pending = pending[~pending.index.isin(first_target.index)]
    cutoff = pd.concat([first_target, pending]).astype("int64").rename("cutoff_year")
    pop = pd.DataFrame({"cutoff_year": cutoff})
    pop.index.name = "student_id"
    cohort = students.set_index("student_id")["cohort_year"]
    pop["cohort_year"] = cohort.reindex(pop.index).astype("Int64")
    pop = pop.loc[pop["cohort_year"].notna()]
    pop["label"] = task_labels(tables, spec).reindex(pop.index).astype("Int8")
    return pop[["cohort_year", "cutoff_year", "label"]].sort_index()
