"""Which students a monitoring report looks at, and the report for a model and an extract.

The model is any object with the :class:`cin_ml.tracking.RunBundle` surface used here
(``task``, ``features``, ``threshold``, ``encode(X)``, ``model.predict`` returning
calibrated probabilities), as in :func:`cin_ml.access.score_cohort`: no mlflow here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cin_ml.errors import DataError
from cin_ml.monitoring._report import LabelledCohort, MonitoringReport, build_report
from cin_ml.monitoring._settings import MonitoringSettings

__all__ = ["CohortScores", "monitor_extract", "score_cohorts"]

GROUPS = ("sex", "language_group", "immigration_generation", "intervention_plan", "imse_band")


@dataclass(frozen=True, eq=False)
class CohortScores:
    """One cohort scored at its prediction point (``year``: the school year at whose end)."""

    year: int
    X: pd.DataFrame  # encoded model inputs
    css: np.ndarray
    scores: np.ndarray
    groups: pd.DataFrame
    y: np.ndarray | None  # labels, when they are in


def score_cohorts(model, tables: Mapping[str, pd.DataFrame], *, after_cohort: int | None,
                  feature_settings=None) -> tuple[CohortScores, CohortScores | None]:
    """The newest cohort (due for a prediction at the end of the extract's last school
    year, no label yet) and the latest labelled cohort entering grade 1 after
    ``after_cohort`` (the training run's test cohort), each scored by ``model``."""
    from cin_ml.features import build_features

    frame = build_features(dict(tables), model.task, feature_settings)
    pop = frame.population
    last_year = int(tables["enrolments"]["school_year"].max())
    css_of = tables["students"].set_index("student_id")["css_id"].astype(str)
    missing = [f for f in model.features if f not in frame.X.columns]
    if missing:
        raise DataError(f"the extract does not yield model input(s) {', '.join(missing[:6])}")

    def scored(ids, labelled: bool) -> CohortScores:
        X = model.encode(frame.X.loc[ids, list(model.features)])
        audit = frame.audit.loc[ids]
        groups = pd.DataFrame({g: audit[g].astype(str).to_numpy() for g in GROUPS
                               if g in audit.columns})
        year = int(pop.loc[ids, "cutoff_year"].iloc[0]) - 1
        return CohortScores(year, X, css_of.reindex(ids).to_numpy(),
                            np.asarray(model.model.predict(X), float), groups,
                            pop.loc[ids, "label"].astype(float).to_numpy() if labelled
                            else None)

    due = pop.index[(pop["cutoff_year"] == last_year + 1) & pop["label"].isna()]
    if len(due) == 0:
        raise DataError(f"no student is due for a {model.task} prediction at the end of "
                        f"{last_year}-{(last_year + 1) % 100:02d} in this extract")
    newest = scored(due, False)
    lab = pop.loc[pop["label"].notna()]
    if after_cohort is not None:
        lab = lab.loc[lab["cohort_year"] > after_cohort]
    latest = None
    if len(lab):
        cut = lab["cutoff_year"].max()
        latest = scored(lab.index[lab["cutoff_year"] == cut], True)
    return newest, latest


def monitor_extract(model, tables: Mapping[str, pd.DataFrame], reference: Mapping,
                    settings: MonitoringSettings, *, after_cohort: int | None,
                    conditions: Iterable = (), approved: Mapping | None = None,
                    prior_estimate: Callable[[int], Mapping | None] | None = None,
                    model_info: Mapping | None = None, feature_settings=None,
                    fairness_policy=None) -> MonitoringReport:
    """Score the extract's newest cohort (and its latest labelled one) and build the report.

    ``prior_estimate(year)`` returns the label-free estimate an earlier report made for the
    cohort predicted at the end of ``year`` (``None`` if none).
    """
    newest, latest = score_cohorts(model, tables, after_cohort=after_cohort,
                                   feature_settings=feature_settings)
    labelled = None
    if latest is not None and latest.y is not None:
        labelled = LabelledCohort(latest.year, latest.y, latest.scores, latest.groups,
                                  prior_estimate(latest.year) if prior_estimate else None)
    return build_report(model=dict(model_info or {"task": model.task}), reference=reference,
                        X=newest.X, css=newest.css, scores=newest.scores,
                        threshold=float(model.threshold), groups=newest.groups,
                        year=newest.year, settings=settings, labelled=labelled,
                        conditions=conditions, approved=approved,
                        fairness_policy=fairness_policy)
