"""Contributions are exactly shap's tree-path-dependent values and add up to the raw score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cin_ml.errors import DataError
from cin_ml.explain import compute_contributions, contributions_from_frame
from cin_ml.models import resolve_threads


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier:UserWarning")
def test_matches_shap_tree_explainer(data, booster):
    import shap

    df, _ = data
    X = df.iloc[:500]
    ours = compute_contributions(booster, X, num_threads=1)
    explainer = shap.TreeExplainer(booster)
    ref = explainer.shap_values(X)
    assert ref.shape == ours.values.shape
    np.testing.assert_allclose(ours.values, ref, rtol=0, atol=1e-6)
    assert ours.base_value == pytest.approx(float(np.ravel(explainer.expected_value)[0]),
                                            abs=1e-6)


def test_additivity_against_raw_score(data, booster):
    df, _ = data
    c = compute_contributions(booster, df, num_threads=1)
    raw = booster.predict(df, raw_score=True, num_threads=1)
    np.testing.assert_allclose(c.base_value + c.values.sum(axis=1), raw, atol=1e-9)
    assert c.max_additivity_error < 1e-9
    # contributions are not trivially zero: the model uses its features
    assert np.abs(c.values).mean() > 0.05


def test_threads_and_chunks_do_not_change_values(data, booster):
    df, _ = data
    a = compute_contributions(booster, df, num_threads=1, chunk_rows=100_000)
    b = compute_contributions(booster, df, num_threads=resolve_threads(2), chunk_rows=257)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.raw_score, b.raw_score)


def test_column_order_and_extra_columns_are_handled(data, booster):
    df, _ = data
    X = df.iloc[:200]
    shuffled = X[list(X.columns[::-1])].assign(extra=1.0)
    a = compute_contributions(booster, X, num_threads=1)
    b = compute_contributions(booster, shuffled, num_threads=1)
    np.testing.assert_array_equal(a.values, b.values)
    assert b.features == tuple(booster.feature_name())
    assert list(a.student_ids) == list(X.index)


def test_sklearn_estimator_is_accepted(data):
    import lightgbm as lgb

    df, y = data
    est = lgb.LGBMClassifier(n_estimators=20, num_leaves=7, n_jobs=1, verbose=-1)
    est.fit(df, y)
    c = compute_contributions(est, df.iloc[:100], num_threads=1)
    raw = est.predict(df.iloc[:100], raw_score=True)
    np.testing.assert_allclose(c.base_value + c.values.sum(axis=1), raw, atol=1e-9)


def test_bad_inputs_are_refused(data, booster):
    df, _ = data
    with pytest.raises(DataError, match="lacks model input column"):
        compute_contributions(booster, df.drop(columns=["lecture_g3_mean"]), num_threads=1)
    with pytest.raises(DataError, match="LightGBM Booster"):
        compute_contributions(object(), df, num_threads=1)
    with pytest.raises(DataError, match="student ids"):
        compute_contributions(booster, df.iloc[:10], ["a"], num_threads=1)


def test_cache_frame_round_trip_and_subset(data, booster):
    df, _ = data
    c = compute_contributions(booster, df.iloc[:300], num_threads=1)
    frame = c.frame()
    assert list(frame.columns[:1]) == ["student_id"]
    back = contributions_from_frame(pd.DataFrame(frame), c.explainer)
    np.testing.assert_array_equal(back.values, c.values)
    assert back.base_value == c.base_value
    sub = c.subset(["P000005", "P000002"])
    np.testing.assert_array_equal(sub.values, c.values[[5, 2]])
    with pytest.raises(DataError, match="no computed contributions"):
        c.row("nobody")
