"""The prediction tasks: one home for every fact about a task.

A task says who is predicted, when (the prediction point), from which history, what the
label is, where the simulator keeps its truth, what it is called in MLflow and how it reads
in French and English. Every other module (features, the simulator's utility check, tracking,
the registry, cards, explanations, reports, the demo) reads these facts from here
(docs/architecture.md, "Tasks").

This module sits just above :mod:`cin_ml.schema` (whose tables the label rules name), below
every package, so the source-side simulator and the virtual-CSS checks may use it as well as
the feature builder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.schema import DROPOUT_STATUS, MINISTRY_EXAMS, require_columns

__all__ = ["TASKS", "LabelRule", "TaskSpec", "get_task", "registered_model_name",
           "task_label", "task_labels"]


def registered_model_name(task: str) -> str:
    """Registered model and experiment of a task or a dataset spec: ``cin-ecriture-4e``."""
    return "cin-" + task.replace("_", "-")


@dataclass(frozen=True)
class LabelRule:
    """How a task's label is read from the extract.

    The label rows are the rows of ``table`` (restricted to ``where_column == where_value``
    when given); a row is an event (label 1) when ``event_column`` takes one of
    ``event_values``, else a non-event (0). Students with no label row are unlabelled.
    """

    table: str
    event_column: str
    event_values: tuple
    where_column: str | None = None
    where_value: str | None = None

    def columns(self) -> tuple[str, ...]:
        extra = (self.where_column,) if self.where_column else ()
        return ("student_id", *extra, self.event_column)


@dataclass(frozen=True)
class TaskSpec:
    """One prediction task.

    ``target_grade`` is the grade whose first year is the prediction point: only rows with
    ``school_year`` strictly before it may feed features. ``history_grades`` are the grades
    whose marks become features; ``indicator_grade`` is the grade of the traditional
    indicator (any French mark below the pass mark). ``labels`` holds the fr/en texts
    (``name``, ``predicts``, ``for_whom``, ``event``, ``risk``, ``outcome``).
    """

    name: str
    target_grade: int
    history_grades: tuple[int, ...]
    indicator_grade: int
    label: LabelRule
    description: str
    labels: Mapping[str, Mapping[str, str]]

    @property
    def registered_model(self) -> str:
        """Registered model and experiment name: ``cin-ecriture-4e``."""
        return registered_model_name(self.name)

    @property
    def experiment(self) -> str:
        """MLflow experiment of the task's training runs (same name as the model)."""
        return self.registered_model

    @property
    def truth_probability(self) -> str:
        """Column of the simulator's truth with the true probability of the event."""
        return f"p_{self.name}"

    @property
    def truth_label(self) -> str:
        """Column of the simulator's truth with the recorded label."""
        return f"y_{self.name}"

    @property
    def prediction_grade(self) -> int:
        """Last grade of history: predicted at the end of it (grade 3 / primary)."""
        return self.target_grade - 1

    def text(self, key: str, lang: str) -> str:
        """One label in ``lang`` (``fr`` or ``en``)."""
        return self.labels[key][lang]

    def to_dict(self) -> dict:
        return {"name": self.name, "target_grade": self.target_grade,
                "history_grades": list(self.history_grades),
                "indicator_grade": self.indicator_grade, "experiment": self.experiment,
                "description": self.description}


def _t(fr: str, en: str) -> dict[str, str]:
    return {"fr": fr, "en": en}


TASKS: dict[str, TaskSpec] = {
    "ecriture_4e": TaskSpec(
        name="ecriture_4e", target_grade=4, history_grades=(1, 2, 3), indicator_grade=3,
        label=LabelRule("ministry_exams", "passed", (False,), "exam", MINISTRY_EXAMS[0]),
        description="fails the grade-4 ministry writing exam (mark < 60); "
                    "predicted at the end of grade 3",
        labels={
            "name": _t("Échec à l'épreuve d'écriture de 4e année",
                       "Grade-4 writing exam failure"),
            "predicts": _t("le risque qu'un élève échoue à l'épreuve ministérielle d'écriture "
                           "de 4e année (note sous 60)",
                           "the risk that a student fails the grade-4 ministry writing exam "
                           "(mark below 60)"),
            "for_whom": _t("les élèves à la fin de la 3e année du primaire, à partir de leurs "
                           "résultats et de leur parcours de la 1re à la 3e année",
                           "students at the end of grade 3, from their marks and school "
                           "history in grades 1 to 3"),
            "event": _t("échoueront à l'épreuve", "go on to fail the exam"),
            "risk": _t("risque de ne pas réussir l'épreuve ministérielle d'écriture de "
                       "4e année", "risk of not passing the grade-4 ministry writing exam"),
            "outcome": _t("échec à l'épreuve ministérielle d'écriture de 4e année",
                          "failing the grade-4 ministry writing exam"),
        }),
    "decrochage": TaskSpec(
        name="decrochage", target_grade=7, history_grades=(1, 2, 3, 4, 5, 6),
        indicator_grade=6, label=LabelRule("outcomes", "status", (DROPOUT_STATUS,)),
        description="leaves secondary without a diploma or qualification; "
                    "predicted at entry to secondary 1",
        labels={
            "name": _t("Décrochage au secondaire", "Secondary school dropout"),
            "predicts": _t("le risque qu'un élève quitte le secondaire sans diplôme ni "
                           "qualification (décrochage)",
                           "the risk that a student leaves secondary school without a "
                           "diploma or qualification (dropout)"),
            "for_whom": _t("les élèves à l'entrée en 1re secondaire, à partir de leur "
                           "parcours au primaire",
                           "students entering secondary 1, from their primary-school "
                           "history"),
            "event": _t("décrocheront", "go on to drop out"),
            "risk": _t("risque de quitter l'école secondaire sans diplôme ni qualification",
                       "risk of leaving secondary school without a diploma or "
                       "qualification"),
            "outcome": _t("sortie du secondaire sans diplôme ni qualification",
                          "leaving secondary school without a diploma or qualification"),
        }),
}


def get_task(task: str) -> TaskSpec:
    """Return the :class:`TaskSpec` named ``task`` (DataError listing the known tasks)."""
    if task not in TASKS:
        raise DataError(f"unknown task '{task}' (known: {', '.join(TASKS)})")
    return TASKS[task]


def task_label(task: str, key: str, lang: str) -> str:
    """A task's label in ``lang``; the task's own name for a task cin-ml does not define
    (a dataset spec)."""
    spec = TASKS.get(task)
    return spec.text(key, lang) if spec is not None and key in spec.labels else task


def task_labels(tables: Mapping[str, pd.DataFrame], task: TaskSpec | str) -> pd.Series:
    """The task's 0/1 labels (``int8``) indexed by ``student_id``, from its label rule.

    Raises SchemaError naming the table or column the rule needs and the extract lacks.
    """
    spec = task if isinstance(task, TaskSpec) else get_task(task)
    rule = spec.label
    df = require_columns(tables, rule.table, rule.columns())
    if rule.where_column:
        df = df.loc[df[rule.where_column].astype(str) == rule.where_value]
    values = df[rule.event_column]
    if all(isinstance(v, bool) for v in rule.event_values):
        event = values.astype(bool).isin(rule.event_values)
    else:
        event = values.astype(str).isin([str(v) for v in rule.event_values])
    return pd.Series(np.asarray(event, dtype="int8"), index=df["student_id"].to_numpy(),
                     name="label")
