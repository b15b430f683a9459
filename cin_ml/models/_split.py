"""Validation over time: rolling-origin test cohorts, each with a model trained before it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cin_ml.errors import DataError
from cin_ml.models._settings import ValidationSettings


@dataclass(frozen=True)
class CohortSplit:
    """Cohorts used for training, early stopping/calibration (``valid``) and test.

    Cohorts whose label coverage is below ``min_label_coverage`` are not used (their labels
    are censored: e.g. only early dropouts are known yet) and are listed in ``excluded``.
    ``test_cohorts`` are the rolling-origin test cohorts whose pooled out-of-time predictions
    form the evaluation set (``test`` is the latest of them); for the served model trained on
    every labelled cohort (``refit_on_all``), ``train`` and ``valid`` are that model's.
    """

    train: tuple[int, ...]
    valid: int
    test: int
    excluded: dict[int, float]
    coverage: dict[int, float]
    test_cohorts: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        tests = list(self.test_cohorts or (self.test,))
        return {"train_cohorts": list(self.train), "valid_cohort": self.valid,
                "test_cohort": self.test, "test_cohorts": tests,
                "excluded_cohorts": {str(k): v for k, v in self.excluded.items()},
                "label_coverage": {str(k): v for k, v in self.coverage.items()}}


@dataclass(frozen=True)
class RollingPlan:
    """The folds of rolling-origin validation (oldest test cohort first) and the split of the
    served model."""

    folds: tuple[CohortSplit, ...]
    final: CohortSplit
    refit: bool
    test_at_risk: int = 0       # students with the outcome in the pooled test cohorts


def _labelled(population: pd.DataFrame, settings: ValidationSettings, task: str
              ) -> tuple[list[int], dict[int, float]]:
    g = population.groupby("cohort_year")["label"]
    cov = (g.count() / g.size()).round(4)
    n_lab = g.count()
    ok = sorted(int(c) for c in cov.index
                if cov[c] >= settings.min_label_coverage
                and n_lab[c] >= settings.min_cohort_labelled)
    coverage = {int(c): float(cov[c]) for c in cov.index}
    if len(ok) < 3:
        raise DataError(
            f"task '{task}': need >= 3 labelled cohorts (label coverage >= "
            f"{settings.min_label_coverage} and >= {settings.min_cohort_labelled} labelled, "
            f"[validation] in configs/models.toml); found {len(ok)}: "
            f"{ {c: coverage[c] for c in sorted(coverage)} }")
    return ok, coverage


def cohort_split(population: pd.DataFrame, settings: ValidationSettings,
                 task: str) -> CohortSplit:
    """Single split from ``population`` (``cohort_year``, ``label``): train on the labelled
    cohorts but the last two, validate on the second latest, test on the latest.

    Raises
    ------
    DataError
        Fewer than three fully labelled cohorts (train, valid and test need one each).
    """
    ok, coverage = _labelled(population, settings, task)
    excluded = {c: v for c, v in coverage.items() if c not in ok}
    return CohortSplit(tuple(ok[:-2]), ok[-2], ok[-1], excluded, coverage)


def _test_cohort_count(ok: list[int], at_risk: pd.Series, settings: ValidationSettings
                       ) -> int:
    """K: ``test_cohorts``, raised one cohort at a time while the pooled test cohorts hold
    fewer than ``min_test_at_risk`` students with the outcome (the audit's power rule),
    never beyond what leaves ``min_train_cohorts`` training cohorts before each fold, and
    at least one. Only labels are counted, never a model's results."""
    most = max(1, len(ok) - 1 - settings.min_train_cohorts)
    k = max(1, min(settings.test_cohorts, most))
    while k < most and int(at_risk.reindex(ok[-k:]).fillna(0).sum()) < \
            settings.min_test_at_risk:
        k += 1
    return k


def rolling_plan(population: pd.DataFrame, settings: ValidationSettings,
                 task: str) -> RollingPlan:
    """Rolling-origin folds: each of the last K labelled cohorts is tested by a model
    trained on the cohorts before it, the one just before serving as validation cohort.
    K is ``settings.test_cohorts``, raised while the pooled test cohorts hold fewer than
    ``min_test_at_risk`` students with the outcome, and lowered (to at least one) when the
    data do not leave ``min_train_cohorts`` training cohorts before each fold.

    Raises
    ------
    DataError
        Fewer than three fully labelled cohorts.
    """
    ok, coverage = _labelled(population, settings, task)
    excluded = {c: v for c, v in coverage.items() if c not in ok}
    at_risk = population.loc[population["label"] == 1].groupby("cohort_year").size()
    at_risk.index = at_risk.index.astype(int)
    k = _test_cohort_count(ok, at_risk, settings)
    tests = tuple(ok[-k:])
    folds = tuple(CohortSplit(tuple(ok[:i - 1]), ok[i - 1], ok[i], excluded, coverage,
                              tests) for i in range(len(ok) - k, len(ok)))
    if settings.refit_on_all:
        final = CohortSplit(tuple(ok[:-1]), ok[-1], ok[-1], excluded, coverage, tests)
    else:
        final = folds[-1]
    return RollingPlan(folds=folds, final=final, refit=settings.refit_on_all,
                       test_at_risk=int(at_risk.reindex(list(tests)).fillna(0).sum()))
