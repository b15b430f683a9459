"""Prediction tasks: who is predicted, when (the prediction point) and the label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import DataError, SchemaError


@dataclass(frozen=True)
class TaskSpec:
    """One prediction task (docs/CONTRACTS.md).

    ``target_grade`` is the grade whose first year is the prediction point: only rows with
    ``school_year`` strictly before it may feed features. ``history_grades`` are the grades
    whose marks become features; ``indicator_grade`` is the grade of the traditional
    indicator (any French mark below the pass mark).
    """

    name: str
    target_grade: int
    history_grades: tuple[int, ...]
    indicator_grade: int
    experiment: str
    description: str

    def to_dict(self) -> dict:
        return {"name": self.name, "target_grade": self.target_grade,
                "history_grades": list(self.history_grades),
                "indicator_grade": self.indicator_grade, "experiment": self.experiment,
                "description": self.description}


TASKS: dict[str, TaskSpec] = {
    "ecriture_4e": TaskSpec("ecriture_4e", 4, (1, 2, 3), 3, "cin-ecriture-4e",
                            "fails the grade-4 ministry writing exam (mark < 60); "
                            "predicted at the end of grade 3"),
    "decrochage": TaskSpec("decrochage", 7, (1, 2, 3, 4, 5, 6), 6, "cin-decrochage",
                           "leaves secondary without a diploma or qualification; "
                           "predicted at entry to secondary 1"),
}


def get_task(task: str) -> TaskSpec:
    """Return the :class:`TaskSpec` named ``task`` (DataError listing the known tasks)."""
    if task not in TASKS:
        raise DataError(f"unknown task '{task}' (known: {', '.join(TASKS)})")
    return TASKS[task]


def _require(tables: dict, name: str, cols: tuple[str, ...]) -> pd.DataFrame:
    if name not in tables:
        raise SchemaError(f"extract is missing table '{name}'")
    df = tables[name]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SchemaError(f"table '{name}': missing column(s) {', '.join(missing)}")
    return df


def task_population(tables: dict[str, pd.DataFrame], task: str) -> pd.DataFrame:
    """Students predicted for ``task``, their prediction point and label.

    Returns a frame indexed by ``student_id`` with ``cohort_year``, ``cutoff_year`` (first
    school year that may *not* feed features) and ``label`` (``Int8``: 1 event, 0 no event,
    ``<NA>`` unlabelled). A student enters the population once enrolled in
    ``target_grade`` (the prediction point is behind them), or when they finished the grade
    before it in the extract's last year (to be scored now, unlabelled).
    """
    spec = get_task(task)
    students = _require(tables, "students", ("student_id", "cohort_year"))
    enr = _require(tables, "enrolments", ("student_id", "school_year", "grade"))
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
    pop["label"] = _labels(tables, spec).reindex(pop.index).astype("Int8")
    return pop[["cohort_year", "cutoff_year", "label"]].sort_index()


def _labels(tables: dict[str, pd.DataFrame], spec: TaskSpec) -> pd.Series:
    if spec.name == "ecriture_4e":
        ex = _require(tables, "ministry_exams", ("student_id", "exam", "passed"))
        ex = ex.loc[ex["exam"].astype(str) == "ecriture_4e"]
        return pd.Series(np.where(ex["passed"].astype(bool), 0, 1),
                         index=ex["student_id"].to_numpy(), dtype="int8")
    out = _require(tables, "outcomes", ("student_id", "status"))
    return pd.Series((out["status"].astype(str) == "decrochage").astype("int8").to_numpy(),
                     index=out["student_id"].to_numpy())
