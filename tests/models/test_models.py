"""Metrics against sklearn, folded calibration, the cohort split, and training on a small
simulated CSS (against its ground truth)."""

from __future__ import annotations

import numpy as np
import pytest

from cin_ml.errors import DataError
from cin_ml.features import build_features
from cin_ml.models import (
    auc,
    average_precision,
    load_model_settings,
    train_model,
)


def fast_settings(**tuning):
    s = load_model_settings()
    return s.model_copy(update={
        "lightgbm": s.lightgbm.model_copy(update={"num_threads": 1}),
        "tuning": s.tuning.model_copy(update=tuning or {"n_folds": 0}),
        "evaluation": s.evaluation.model_copy(update={"n_boot": 50}),
        # K = 3 test cohorts: the power rule is tested in test_rolling.py and, at the demo's
        # size, in tests/fairness/test_against_truth.py
        "validation": s.validation.model_copy(update={"min_test_at_risk": 0})})


def test_metrics_match_sklearn():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    s = np.round(rng.normal(size=2000) + y, 1)    # ties on purpose
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_platt_folded_into_the_booster_is_exact():
    import lightgbm as lgb
    import pandas as pd

    from cin_ml.models._booster import fit_platt, fold_platt

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(2000, 4)), columns=list("abcd"))
    y = (X["a"] + rng.normal(size=2000) > 0.5).astype(int)
    b = lgb.train({"objective": "binary", "verbosity": -1, "num_threads": 1}, lgb.Dataset(X, y),
                  30)
    raw = b.predict(X, raw_score=True)
    a, c = fit_platt(raw, y.to_numpy())
    f = fold_platt(b, a, c)
    np.testing.assert_allclose(f.predict(X), 1 / (1 + np.exp(-(a * raw + c))), atol=1e-12)
    np.testing.assert_allclose(f.predict(X, pred_contrib=True).sum(axis=1), a * raw + c,
                               atol=1e-9)


@pytest.fixture(scope="module")
def trained(small_sim):
    truth = small_sim.truth.students.set_index("student_id")
    return {t: train_model(build_features(small_sim.tables, t), fast_settings(),
                           p_true=truth[f"p_{t}"]) for t in ("ecriture_4e", "decrochage")}


def test_split_is_over_time_and_skips_censored_cohorts(small_sim, trained):
    for r in trained.values():
        sp = r.split
        # rolling origin: the served model is trained on every labelled cohort (the latest
        # for early stopping and calibration); the evaluation set pools the last 3 labelled
        # cohorts, each predicted by a model trained on the cohorts before it
        assert max(sp.train) < sp.valid == sp.test == max(sp.test_cohorts)
        n_labelled = len(sp.train) + 1
        # two training cohorts before each test cohort's validation cohort, at least one fold
        assert len(sp.test_cohorts) == max(1, min(3, n_labelled - 3))
        # every later cohort is incompletely labelled (censored), so the latest test cohort
        # is the latest *fully* labelled one
        assert all(cov < 0.95 for c, cov in sp.coverage.items() if c > sp.test)
        assert set(r.test["cohort_year"]) == set(sp.test_cohorts)
        assert r.test["student_id"].is_unique
        for fold in r.metrics["rolling"]["folds"]:
            assert max(fold["train_cohorts"]) < fold["valid_cohort"] < fold["test_cohort"]
    # decrochage: recent cohorts are partly labelled (only early dropouts): never tested on
    dec = trained["decrochage"].split
    assert any(c > dec.test for c in dec.excluded)


def test_model_beats_indicator_and_nears_oracle_on_small_data(trained):
    for task, r in trained.items():
        m = r.metrics
        from sklearn.metrics import roc_auc_score

        assert m["test_auc"] == pytest.approx(
            roc_auc_score(r.test["y_true"], r.test["score"]), abs=1e-6)
        assert m["oracle_auc"] == pytest.approx(
            roc_auc_score(r.test["y_true"], r.test["p_true"]), abs=1e-6)
        assert m["test_auc"] > m["indicator_auc"] + 0.05, task
        # 3,000 students: a loose bound; the 0.02 acceptance check is the slow test
        assert m["auc_gap_to_oracle"] < 0.08, task
        lo, hi = (m["bootstrap"]["intervals"]["model_auc"][k] for k in ("low", "high"))
        assert lo < m["test_auc"] < hi


def test_probabilities_and_threshold(trained):
    for r in trained.values():
        t = r.test
        assert t["score"].between(0, 1).all()
        # calibrated: mean prediction close to the observed rate of the test cohort
        assert abs(t["score"].mean() - t["y_true"].mean()) < 0.05
        # each student at the threshold of the model that scored it (its fold's)
        assert (t["flagged"] == (t["score"] >= t["threshold"])).all()
        assert t.groupby("cohort_year")["threshold"].nunique().eq(1).all()
        # capacity threshold chosen on the validation cohort: ~15 % flagged on test
        assert 0.07 < t["flagged"].mean() < 0.25
        a = r.metrics["at_threshold"]
        assert a["recall"] + a["fnr"] == pytest.approx(1)
        # the served model (trained on every labelled cohort) is not the one that made the
        # out-of-time scores, but it ranks the same students much the same way
        from scipy.stats import spearmanr

        served = r.booster.predict(r.test_features[list(r.features)])
        assert spearmanr(served, t["score"]).statistic > 0.8
        assert served == pytest.approx(t["served_score"].to_numpy())


def test_grouped_cv_tuning_picks_a_candidate(small_sim):
    fr = build_features(small_sim.tables, "ecriture_4e")
    r = train_model(fr, fast_settings(n_folds=3))
    assert len(r.cv) == 3
    best = max(r.cv, key=lambda c: c["cv_auc_mean"])
    assert r.params["num_leaves"] == best["params"]["num_leaves"]


def test_too_few_labelled_cohorts_is_a_data_error(small_sim):
    fr = build_features(small_sim.tables, "decrochage")
    pop = fr.population.assign(label=fr.population["label"].where(
        fr.population["cohort_year"] > 2011))
    import dataclasses

    with pytest.raises(DataError, match="labelled cohorts"):
        train_model(dataclasses.replace(fr, population=pop), fast_settings())


def test_indicator_comparison_is_like_for_like(trained):
    """The model flagging as many students as the indicator finds more of the failures."""
    for task, r in trained.items():
        t, m = r.test, r.metrics
        ind, same = m["indicator_at_flag"], m["model_at_indicator_rate"]
        assert same["flag_rate"] == pytest.approx(ind["flag_rate"], abs=1e-6)
        k = int(t["indicator"].sum())
        top = t.nlargest(k, "score")
        assert same["recall"] == pytest.approx(top["y_true"].sum() / t["y_true"].sum(), abs=1e-6)
        assert same["recall"] > ind["recall"], task


def test_monotone_constraints_follow_the_declared_families():
    from cin_ml.errors import ConfigError
    from cin_ml.models import MonotoneSettings, feature_constraint, monotone_constraints

    fams = load_model_settings().monotone.families()
    assert fams["ecriture"] == "decreasing" and fams["absences"] == "increasing"
    assert fams["parcours"] == fams["contexte"] == fams["plan"] == "free"
    feats = ["ecriture_g3_mean", "lecture_g2_trend", "lecture_n_below_60",
             "raisonner_g2_volatility", "absence_rate_non_motivee", "n_retentions",
             "imse_decile", "language_group"]
    assert monotone_constraints(feats, fams, ["language_group"]) == [-1, -1, 1, 0, 1, 0, 0, 0]
    assert feature_constraint("ecriture_g3_mean", MonotoneSettings().families()) == 0
    with pytest.raises(ConfigError):
        from cin_ml.config import settings_from_dict

        settings_from_dict(MonotoneSettings, {"ecriture": "upwards"}, "models.toml [monotone]")


def test_monotone_constraints_are_recorded_and_hold(trained):
    r = trained["decrochage"]
    mono = r.model_meta()["monotone"]
    assert mono["constrained_families"] == ["absences", "ecriture", "lecture", "raisonner",
                                            "resoudre"]
    assert mono["features"]["lecture_g6_mean"] == -1
    assert mono["features"]["absence_rate_total"] == 1
    assert r.params["monotone_constraints"] == [mono["features"].get(f, 0) for f in r.features]
    X = r.test_features.set_index("student_id")[list(r.features)].head(200)
    for f, sign in (("lecture_g6_mean", -1), ("absence_rate_total", 1)):
        lo, hi = X.copy(), X.copy()
        lo[f], hi[f] = X[f].quantile(0.1), X[f].quantile(0.9)
        diff = r.booster.predict(hi) - r.booster.predict(lo)
        assert (sign * diff >= -1e-12).all(), f


def test_single_cohort_path_serves_the_tested_model(small_sim):
    """test_cohorts = 1 without refit: train, valid, test; the served model made the scores."""
    s = fast_settings()
    s = s.model_copy(update={"validation": s.validation.model_copy(
        update={"test_cohorts": 1, "refit_on_all": False})})
    r = train_model(build_features(small_sim.tables, "ecriture_4e"), s)
    assert set(r.test["cohort_year"]) == {r.split.test} and r.split.valid < r.split.test
    assert r.booster.predict(r.test_features[list(r.features)]) == pytest.approx(
        r.test["score"].to_numpy())
    assert (r.test["threshold"] == r.threshold["value"]).all()
