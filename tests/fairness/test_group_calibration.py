"""Calibration within groups: a group whose risks are too high fails, the others pass."""

from __future__ import annotations

import numpy as np

from cin_ml.fairness import calibration_within_groups
from tests.fairness.conftest import make_predictions


def test_miscalibrated_group_fails_and_well_calibrated_groups_pass(policy):
    y, _, g, p_true = make_predictions(12000, seed=3)
    score = p_true.copy()                       # the truth itself: perfectly calibrated
    allo = (g["language_group"] == "allophone").to_numpy()
    logit = np.log(score / (1 - score))
    score[allo] = 1 / (1 + np.exp(-(logit[allo] + 1.0)))   # risks of one group overstated
    res = calibration_within_groups(y, score, g, policy, n_boot=100)
    lang = next(b for b in res["breakdowns"] if b["attribute"] == "language_group")
    by = {r["group"]: r for r in lang["groups"]}
    assert by["allophone"]["verdict"] == "fail"
    assert by["allophone"]["intercept"]["high"] < -policy.calibration_intercept_tolerance
    assert by["francophone"]["verdict"] == "pass"
    assert lang["verdict"] == "fail"
    sex = next(b for b in res["breakdowns"] if b["attribute"] == "sex")
    assert sex["verdict"] != "fail"
