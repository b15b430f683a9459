"""Drift statistics and label-free estimates against known truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from cin_ml.monitoring import (
    build_reference,
    drift_report,
    estimate_performance,
    psi,
    realized_performance,
)


def test_psi_known_value_and_zero():
    assert psi([100, 100], [100, 100]) == 0.0
    r, c = np.array([50.5, 50.5]) / 101, np.array([20.5, 80.5]) / 101
    assert abs(psi([50, 50], [20, 80]) - np.sum((c - r) * np.log(c / r))) < 1e-12


def test_realized_auc_matches_sklearn():
    rng = np.random.default_rng(0)
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(int)
    p[:50] = 0.5  # ties
    got = realized_performance(y, p, 0.8)
    assert abs(got["auc"] - roc_auc_score(y, p)) < 1e-12
    assert abs(got["recall"] - ((p >= 0.8) & (y == 1)).sum() / y.sum()) < 1e-12


def test_estimate_is_the_expected_auc_and_its_interval_covers():
    """With true probabilities, the realized AUC of fresh labels lies in the 95 % interval
    about 95 % of the time (here: at least 90 of 100 draws)."""
    rng = np.random.default_rng(1)
    p = rng.beta(1, 5, 3000)
    est = estimate_performance(p, 0.35, n_simulations=400, level=0.95, seed=3)
    lo, hi = est["auc_interval"]
    inside = 0
    for _ in range(100):
        y = rng.random(p.size) < p
        inside += lo <= roc_auc_score(y, p) <= hi
    assert inside >= 90
    assert abs(est["event_rate"] - p.mean()) < 0.005


def test_drift_flags_a_shifted_feature_not_a_resample():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"mark": rng.normal(70, 10, 5000), "code": rng.integers(0, 3, 5000)
                      .astype(float)})
    ref = build_reference(X, np.repeat(["A", "B"], 2500), n_bins=10)
    same = X.sample(1500, random_state=1, replace=True).reset_index(drop=True)
    rep = drift_report(ref, same, np.repeat(["A"], 1500), psi_threshold=0.2, alpha=1e-3,
                       min_students=100)
    assert rep["drifted"] == [] and rep["drifted_css"] == []
    moved = same.assign(mark=same["mark"] - 8)
    rep = drift_report(ref, moved, np.repeat(["C"], 1500), psi_threshold=0.2, alpha=1e-3,
                       min_students=100)
    assert rep["drifted"] == ["mark"]
    assert rep["css"]["C"]["new"] and rep["drifted_css"] == ["C"]
