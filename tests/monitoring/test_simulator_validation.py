"""Monitoring validated on the simulator (issue 22), small and fast.

One model is trained on a simulated CSS without a pandemic year; the same CSS (same seed) is
simulated again with shifts injected and monitored against the training reference:

- a pandemic-like newest year (``pandemic_year`` = the extract's last school year: more
  absences, lower marks) is flagged on absence and mark inputs, and the expected event rate
  rises (as the truth's does);
- a CSS the training cohorts never saw is flagged as new;
- a label shift (the latest labelled cohort resampled with three times the failures) is
  flagged on the scores and the label-free event-rate estimate moves up;
- no shift, 20 seeds: cohorts of the newest cohort's size drawn from the training cohorts
  themselves (the null of every drift check: same population, sampling noise only; cheap,
  so one simulation and one training instead of 20) raise at most one false alarm per check;
- the label-free AUC interval covers the realized AUC in at least 90 % of 40 cohorts whose
  labels are drawn from the simulator's true probabilities (the truth's own label law).

``benchmarks/monitor.py --seeds 20`` repeats the no-shift check on 20 full simulations.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cin_ml.monitoring import (
    build_reference,
    drift_report,
    estimate_performance,
    load_monitoring_settings,
    monitor_extract,
    score_cohorts,
    score_shift,
)

N_STUDENTS, SEED = 6000, 5
TASK = "ecriture_4e"


class _Model:
    """The RunBundle surface monitoring uses, over a TrainingResult (no MLflow)."""

    def __init__(self, res):
        from cin_ml.models import encode

        self.task, self.features = TASK, list(res.features)
        self.threshold, self.model = float(res.threshold["value"]), res.booster
        self._encode = lambda X: encode(X, res.category_maps, self.features)

    def encode(self, X):
        return self._encode(X)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fast_models_config):
    from cin_ml.features import build_features
    from cin_ml.models import load_model_settings, train_model
    from cin_ml.simulator import SimulationConfig, simulate

    sim = simulate(SimulationConfig(n_students=N_STUDENTS, seed=SEED, pandemic_year=1990))
    frame = build_features(sim.tables, TASK)
    # single test cohort (train, valid, test; the tested model is served): monitoring compares
    # later cohorts with the served model's training cohorts, whatever the validation
    res = train_model(frame, load_model_settings(
        fast_models_config(tmp_path_factory.mktemp("mon"), 20, rolling=False)))
    model = _Model(res)
    pop = frame.population
    rows = pop.index[pop["cohort_year"].isin(res.split.train)]
    X = model.encode(frame.X.loc[rows])
    css = sim.tables["students"].set_index("student_id")["css_id"].reindex(rows)
    ref = build_reference(X, css.astype(str).to_numpy(), scores=res.test["score"],
                          threshold=model.threshold)
    return {"sim": sim, "model": model, "res": res, "ref": ref, "X": X,
            "settings": load_monitoring_settings()}


def _monitor(trained, **cfg):
    from cin_ml.simulator import SimulationConfig, simulate

    sim = simulate(SimulationConfig(n_students=N_STUDENTS, seed=SEED, **cfg))
    return sim, monitor_extract(trained["model"], sim.tables, trained["ref"],
                                trained["settings"],
                                after_cohort=trained["res"].split.test).to_dict()


def test_pandemic_year_is_flagged_and_the_expected_event_rate_rises(trained):
    _, calm = _monitor(trained, pandemic_year=1990)
    _, hit = _monitor(trained, pandemic_year=2024)
    assert hit["cohort"]["year"] == 2024 == calm["cohort"]["year"]
    assert calm["drift"]["drifted"] == []
    flagged = hit["drift"]["drifted"]
    assert any(f.startswith("absence_rate") for f in flagged), hit["drift"]["features"]
    assert hit["estimate"]["event_rate"] > calm["estimate"]["event_rate"] + 0.005
    # the truth moved the same way: the cohort whose exam fell in the pandemic year failed more
    assert hit["realized"]["event_rate"] > calm["realized"]["event_rate"]


def test_new_css_is_flagged(trained):
    _, rep = _monitor(trained, pandemic_year=1990, n_css=2)
    new = [c for c, r in rep["drift"]["css"].items() if r["new"]]
    assert new == ["CSS002"] and "CSS002" in rep["drift"]["drifted_css"]


def test_label_shift_is_flagged_and_the_estimate_moves_up(trained):
    test = trained["res"].test
    rng = np.random.default_rng(0)
    pos, neg = test.index[test["y_true"] == 1], test.index[test["y_true"] == 0]
    shifted = test.loc[np.concatenate([rng.choice(pos, 3 * len(pos)), neg])]
    st = trained["settings"]
    thr = trained["model"].threshold
    base = estimate_performance(test["score"], thr, n_simulations=200)
    moved = estimate_performance(shifted["score"], thr, n_simulations=200)
    assert moved["event_rate"] > base["event_rate"] + 0.05
    assert shifted["y_true"].mean() > test["y_true"].mean() + 0.05  # the truth moved too
    sh = score_shift(trained["ref"], shifted["score"], thr, psi_threshold=st.drift.psi_threshold,
                     alpha=st.drift.alpha, flag_rate_change=st.shift.flag_rate_change,
                     rate_alpha=st.shift.alpha)
    # flagged by the flag-rate check; on a cohort this small (~400) the score PSI rises
    # (about 0.1) but stays within its sampling-noise bound
    assert sh["flag_rate_alarm"] and sh["flag_rate"] > sh["reference_flag_rate"], sh
    assert sh["psi"] > 0.05


def test_no_shift_at_most_one_false_alarm_per_check_over_20_seeds(trained):
    X, ref, st, model = trained["X"], trained["ref"], trained["settings"], trained["model"]
    newest, _ = score_cohorts(model, trained["sim"].tables, after_cohort=None)
    n = len(newest.scores)
    css = np.asarray([next(iter(ref["by_css"]))] * n)
    scores_ref = trained["res"].test["score"].to_numpy()
    alarms = {"inputs": 0, "css": 0, "scores": 0, "flag_rate": 0}
    for seed in range(20):
        rng = np.random.default_rng(seed)
        Xs = X.iloc[rng.integers(0, len(X), n)].reset_index(drop=True)
        rep = drift_report(ref, Xs, css, psi_threshold=st.drift.psi_threshold,
                           alpha=st.drift.alpha, min_students=st.drift.min_students)
        sh = score_shift(ref, rng.choice(scores_ref, n), model.threshold,
                         psi_threshold=st.drift.psi_threshold, alpha=st.drift.alpha,
                         flag_rate_change=st.shift.flag_rate_change, rate_alpha=st.shift.alpha)
        alarms["inputs"] += bool(rep["drifted"])
        alarms["css"] += bool(rep["drifted_css"])
        alarms["scores"] += bool(sh["drift"])
        alarms["flag_rate"] += bool(sh["flag_rate_alarm"])
    assert max(alarms.values()) <= 1, alarms


def test_label_free_interval_covers_realized_auc(trained):
    truth = trained["sim"].truth.students.set_index("student_id")[f"p_{TASK}"]
    newest, _ = score_cohorts(trained["model"], trained["sim"].tables, after_cohort=None)
    ids = newest.X.index
    p_true = truth.reindex(ids).to_numpy(float)
    est = estimate_performance(newest.scores, trained["model"].threshold, n_simulations=500,
                               level=trained["settings"].estimate.level, seed=1)
    lo, hi = est["auc_interval"]
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(40):
        y = rng.random(len(p_true)) < p_true
        covered += lo <= roc_auc_score(y, newest.scores) <= hi
    assert covered >= 36, (covered, est["auc"], lo, hi)


def test_fallback_reference_from_test_features(trained):
    res = trained["res"]
    Xt = res.test_features[list(res.features)]
    ref = build_reference(Xt, None, scores=res.test["score"],
                          threshold=trained["model"].threshold)
    assert ref["by_css"] == {} and set(ref["features"]) == set(res.features)
    rep = drift_report(ref, Xt.sample(len(Xt) // 2, random_state=0), None,
                       psi_threshold=0.1, alpha=1e-3, min_students=100)
    assert rep["drifted"] == [] and rep["css"] == {}
