"""Rolling-origin validation: folds, per-cohort evidence and its calibration statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cin_ml.models import load_model_settings, rolling_plan
from cin_ml.models._cohorts import calibration_fit, cohort_row


def _population(labelled: int, censored: int = 1) -> pd.DataFrame:
    years = list(range(2010, 2010 + labelled + censored))
    rows = []
    for i, c in enumerate(years):
        for j in range(100):
            lab = (j % 3 == 0) if i < labelled else (np.nan if j % 2 else 1.0)
            rows.append({"cohort_year": c, "label": float(lab)})
    return pd.DataFrame(rows)


def test_each_test_cohort_has_a_model_trained_before_it():
    v = load_model_settings().validation.model_copy(update={"min_test_at_risk": 0})
    plan = rolling_plan(_population(8), v, "t")
    assert [f.test for f in plan.folds] == [2015, 2016, 2017]
    for f in plan.folds:
        assert max(f.train) < f.valid == f.test - 1
        assert 2018 in f.excluded                      # the censored cohort is never used
    assert plan.final.train == tuple(range(2010, 2017)) and plan.final.valid == 2017
    # 5 labelled cohorts leave room for 2 test cohorts (two training cohorts before each)
    short = rolling_plan(_population(5), v, "t")
    assert [f.test for f in short.folds] == [2013, 2014]
    assert short.folds[0].train == (2010, 2011)
    # 3 labelled cohorts: still one fold (train, valid, test)
    assert [f.test for f in rolling_plan(_population(3), v, "t").folds] == [2012]


def test_power_rule_adds_test_cohorts_until_enough_students_are_at_risk():
    """K grows past test_cohorts while the pooled test cohorts hold fewer at-risk students
    than min_test_at_risk, never past what leaves min_train_cohorts before each fold; the
    censored cohort's at-risk students are never counted."""
    v = load_model_settings().validation.model_copy(update={"test_cohorts": 3})
    pop = _population(8)                              # 34 at-risk students per cohort

    def plan(need):
        return rolling_plan(pop, v.model_copy(update={"min_test_at_risk": need}), "t")

    assert len(plan(0).folds) == 3 and plan(0).test_at_risk == 3 * 34
    assert len(plan(102).folds) == 3                  # 3 cohorts hold exactly 102
    p = plan(103)
    assert [f.test for f in p.folds] == [2014, 2015, 2016, 2017] and p.test_at_risk == 136
    for f in p.folds:                                 # every fold still trains before its test
        assert max(f.train) < f.valid == f.test - 1 and len(f.train) >= v.min_train_cohorts
    # more than the data hold: as many test cohorts as leave 2 training cohorts (5 of 8)
    assert [f.test for f in plan(10_000).folds] == [2013, 2014, 2015, 2016, 2017]
    assert plan(10_000).final.test_cohorts == (2013, 2014, 2015, 2016, 2017)


def test_calibration_fit_recovers_known_miscalibration():
    rng = np.random.default_rng(3)
    x = rng.normal(-1, 1.2, 40000)
    p_model = 1 / (1 + np.exp(-x))
    # truth: logit = 0.3 + 0.7 * model logit -> slope 0.7, and an over-confident model
    y = (rng.random(x.size) < 1 / (1 + np.exp(-(0.3 + 0.7 * x)))).astype(int)
    _, slope = calibration_fit(y, p_model)
    assert slope[0] == pytest.approx(0.7, abs=0.03)
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e9, max_iter=1000).fit(np.log(p_model / (1 - p_model))[:, None], y)
    assert slope[0] == pytest.approx(lr.coef_[0, 0], abs=1e-4)
    # a perfectly calibrated score: intercept ~0, slope ~1
    y2 = (rng.random(x.size) < p_model).astype(int)
    a0, b = calibration_fit(y2, p_model)
    assert abs(a0[0]) < 0.04 and b[0] == pytest.approx(1, abs=0.05)


def test_cohort_row_intervals_bracket_the_estimates():
    rng = np.random.default_rng(0)
    p = rng.beta(2, 8, 1500)
    y = (rng.random(1500) < p).astype(int)
    row = cohort_row(y, p, p >= np.quantile(p, 0.85), 0.15, 10, 100, 0.95, 1)
    for k in ("auc", "recall_at_capacity", "calibration_slope", "calibration_intercept"):
        iv = row[k]
        assert iv["low"] <= iv["estimate"] <= iv["high"], k
    assert row["flag_rate"] == pytest.approx(0.15, abs=0.01)
