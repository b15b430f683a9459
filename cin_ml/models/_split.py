"""Validation over time: train on earlier cohorts, test on the latest labelled cohort."""

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
    """

    train: tuple[int, ...]
    valid: int
    test: int
    excluded: dict[int, float]
    coverage: dict[int, float]

    def to_dict(self) -> dict:
        return {"train_cohorts": list(self.train), "valid_cohort": self.valid,
                "test_cohort": self.test,
                "excluded_cohorts": {str(k): v for k, v in self.excluded.items()},
                "label_coverage": {str(k): v for k, v in self.coverage.items()}}


def cohort_split(population: pd.DataFrame, settings: ValidationSettings,
                 task: str) -> CohortSplit:
    """Choose cohorts from ``population`` (``cohort_year``, ``label``).

    Raises
    ------
    DataError
        Fewer than three fully labelled cohorts (train, valid and test need one each).
    """
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
    excluded = {c: v for c, v in coverage.items() if c not in ok}
    return CohortSplit(tuple(ok[:-2]), ok[-2], ok[-1], excluded, coverage)
