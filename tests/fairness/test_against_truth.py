"""Simulator + training API + audit, judged against the simulator's truth.

No injected disparity: no false alarm on any attribute or intersection, where a false alarm is
a fail that the truth does not back (the true rates, from ``p_true``, differ by less than the
tolerance in the direction of the fail). An injected disparity: fail for that group and metric.

60,000 simulated students give pooled out-of-time predictions for the last 3 labelled cohorts
(rolling origin, each student once, at the threshold of the model that scored it); one
simulation and three fold models per scenario, shared by the module. The truth of AUC is the
expected AUC of the model's scores when each student is at risk with probability ``p_true``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cin_ml.fairness import audit

pytestmark = pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning")

N_STUDENTS = 60_000


def _truth(te, attributes) -> dict:
    """True rates per group, straight from ``p_true`` (independent of the audit's own)."""
    p, flag = te["p_true"], (te["score"] >= te["threshold"]).astype(float)
    d = te.assign(miss=p * (1 - flag), caught=p * flag, false=(1 - p) * flag, neg=1 - p,
                  flag=flag)
    agg = d.groupby(list(attributes), observed=True)[
        ["p_true", "miss", "caught", "false", "neg", "flag", "score"]].sum()
    n = d.groupby(list(attributes), observed=True).size()
    out = {"fnr": agg["miss"] / agg["p_true"], "fpr": agg["false"] / agg["neg"],
           "precision": agg["caught"] / agg["flag"],
           "calibration_gap": (agg["score"] - agg["p_true"]) / n}
    out["recall"], out["fdr"] = 1 - out["fnr"], 1 - out["precision"]
    out["auc"] = d.groupby(list(attributes), observed=True)[["score", "p_true"]].apply(
        lambda g: _auc_true(g["score"].to_numpy(), g["p_true"].to_numpy()))
    return {m: {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in s.items()}
            for m, s in out.items()}


def _auc_true(score: np.ndarray, p: np.ndarray) -> float:
    """Expected AUC of ``score`` when each student is at risk with probability ``p`` (pairs of
    two different students, ties counted one half): the AUC the truth gives the model."""
    o = np.argsort(score, kind="mergesort")
    s, p = score[o], p[o]
    q = 1 - p
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos, neg = np.add.reduceat(p, start), np.add.reduceat(q, start)
    below = np.cumsum(neg) - neg
    self_pairs = float((p * q).sum())
    num = float((pos * below).sum() + 0.5 * (pos * neg).sum()) - 0.5 * self_pairs
    den = float(p.sum() * q.sum()) - self_pairs
    return num / den if den > 0 else float("nan")


def _train_and_audit(policy, disparity=None):
    from cin_ml.features import build_features
    from cin_ml.models import load_model_settings, train_model
    from cin_ml.simulator import SimulationConfig, simulate

    ms = load_model_settings()
    ms = ms.model_copy(update={
        "lightgbm": ms.lightgbm.model_copy(update={"num_threads": 1, "learning_rate": 0.1,
                                                   "max_rounds": 300}),
        "tuning": ms.tuning.model_copy(update={"n_folds": 2,
                                               "candidates": ms.tuning.candidates[:1]}),
        "evaluation": ms.evaluation.model_copy(update={"n_boot": 20}),
        # the audit reads the pooled out-of-time predictions; the served refit is not needed
        "validation": ms.validation.model_copy(update={"refit_on_all": False})})
    sim = simulate(SimulationConfig(n_students=N_STUDENTS, seed=7, disparity=disparity))
    p = sim.truth.students.set_index("student_id")["p_ecriture_4e"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = train_model(build_features(sim.tables, "ecriture_4e"), ms, p_true=p)
    te = res.test.copy()
    te[list(policy.attributes)] = te[list(policy.attributes)].astype(str)
    return audit(te["y_true"], te["score"], te["threshold"].to_numpy(),
                 te[list(policy.attributes)], policy, n_boot=200, p_true=te["p_true"]), te


@pytest.fixture(scope="module")
def neutral(policy):
    return _train_and_audit(policy)


@pytest.fixture(scope="module")
def injected(policy):
    from cin_ml.simulator import Disparity

    return _train_and_audit(policy, Disparity(kind="mark_inflation", attribute="language_group",
                                              group="allophone", strength=12))


def _unbacked_fails(res, te, policy) -> list[str]:
    """Fails that the truth does not back (a false alarm), on every breakdown and metric,
    suppressed groups included (their truth is computed from the frame, not the record)."""
    out = []
    for b in res.breakdowns:
        truth = _truth(te, b.attributes)
        for m in policy.verdict_metrics:
            tol = policy.tolerances[m].difference
            sign = {"higher": 1, "lower": -1, "two_sided": 0}[policy.direction(m)]
            for g in b.groups:
                if g.verdicts[m] != "fail":
                    continue
                if m not in truth:  # no truth to back it: any fail is unexplained
                    out.append(f"{b.name}:{m}:{g.label} (no truth metric)")
                    continue
                t = truth[m]
                others = [k for k in b.groups if k.is_reference or g.is_reference
                          and k.labels != g.labels and k.verdicts[m] != "insufficient_data"]
                # how much worse off g truly is than the group(s) it was compared with
                gaps = [t[g.labels] - t[k.labels] for k in others]
                worse = [abs(x) if sign == 0 else sign * x for x in gaps if x == x]
                if max(worse, default=0.0) <= tol:
                    out.append(f"{b.name}:{m}:{g.label} (true gap {max(worse, default=0):+.3f})")
    return out


def _fnr_true_gap(te, attr, a, b) -> float:
    t = _truth(te, (attr,))["fnr"]
    return t[(a,)] - t[(b,)]


def test_no_injected_disparity_no_false_alarm(neutral, policy):
    neutral, te = neutral
    assert _unbacked_fails(neutral, te, policy) == []
    # attributes that are not risk drivers: nothing fails, and sex passes where data suffice
    for attr in ("sex", "language_group", "immigration_generation", "imse_band"):
        assert "fail" not in neutral.breakdown(attr).verdicts.values(), attr
    for m in ("fpr", "precision", "calibration_gap", "auc"):
        assert neutral.verdict("sex", m) == "pass", m
    # selection rate is informational: reported with intervals, no verdict
    sel = neutral.breakdown("intervention_plan").group("1")
    assert "selection_rate" not in sel.verdicts
    assert sel.difference["selection_rate"].low > 0.2  # flagged far more, and reported


def test_no_plan_students_higher_fnr_is_real_and_reported(neutral):
    """Students with an intervention plan are at much higher risk; at the shared capacity
    threshold, at-risk students *without* a plan are missed far more often. That is real
    (the truth says so), so the audit names the no-plan group (the reference) as harmed on
    FNR, while the plan group, better off, passes: no group is hidden by being the reference.
    """
    neutral, te = neutral
    b = neutral.breakdown("intervention_plan")
    no_plan, plan = b.group("0"), b.group("1")
    assert no_plan.is_reference
    assert plan.verdicts["fnr"] == "pass"        # better off than the reference
    assert no_plan.verdicts["fnr"] == "fail"     # worse off than the plan group
    assert b.verdicts["fnr"] == "fail"
    assert plan.difference["fnr"].high < -0.10   # reported: difference and interval
    assert no_plan.metrics["fnr_true"].value - plan.metrics["fnr_true"].value > 0.2
    assert _fnr_true_gap(te, "intervention_plan", "0", "1") > 0.2


def test_injected_mark_inflation_fails_that_group_on_fnr(injected, neutral, policy):
    (injected, te), (neutral, _) = injected, neutral
    lang = injected.breakdown("language_group")
    allo = lang.group("allophone")
    assert lang.verdicts["fnr"] == "fail"
    assert allo.verdicts["fnr"] == "fail"
    assert allo.difference["fnr"].low > 0.3
    # the truth agrees: allophone at-risk students are really missed more often
    assert allo.metrics["fnr_true"].value > lang.group("francophone").metrics["fnr_true"].value \
        + 0.3
    assert lang.group("anglophone").verdicts["fnr"] != "fail"
    # sex is untouched by the injection: pass, not merely "not fail", on the judged metrics
    # the cohort can settle; on FNR the reference passes and the true gap is inside tolerance
    for m in ("fpr", "precision", "calibration_gap", "auc"):
        assert injected.verdict("sex", m) == "pass", m
    sex = injected.breakdown("sex")
    assert sex.verdicts["fnr"] != "fail"
    assert sex.group(*sex.reference).verdicts["fnr"] == "pass"
    assert abs(_fnr_true_gap(te, "sex", "F", "M")) < 0.10
    # and the injected disparity is what moved: allophone FNR rose against the neutral run
    before = neutral.breakdown("language_group").group("allophone").metrics["fnr"].value
    assert allo.metrics["fnr"].value > before + 0.3
    # every other fail is backed by the truth (e.g. 1st/2nd-generation students, mostly
    # allophone, inherit the injected disparity)
    assert _unbacked_fails(injected, te, policy) == []


@pytest.mark.slow
def test_demo_size_audit_decides_most_at_a_glance_rows_and_none_against_truth(policy):
    """The demo's CSS (20,000 students, seed 7) with the packaged models.toml: the power rule
    pools enough test cohorts that at least 4 of the 6 at-a-glance FNR verdicts of
    ecriture_4e decide, and no decision contradicts the simulator's truth (K = 3 alone
    decides 2: benchmarks/pooled_audit.py)."""
    from cin_ml.features import build_features
    from cin_ml.models import load_model_settings, train_model
    from cin_ml.simulator import SimulationConfig, simulate
    from tests.fairness._glance import at_a_glance

    ms = load_model_settings()
    ms = ms.model_copy(update={
        "evaluation": ms.evaluation.model_copy(update={"n_boot": 20}),
        "validation": ms.validation.model_copy(update={"refit_on_all": False})})
    sim = simulate(SimulationConfig(n_students=20_000, seed=7))
    p = sim.truth.students.set_index("student_id")["p_ecriture_4e"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = train_model(build_features(sim.tables, "ecriture_4e"), ms, p_true=p)
    rolling = res.metrics["rolling"]
    assert rolling["k"] > rolling["k_configured"]                 # the rule added cohorts
    assert rolling["test_at_risk"] == int(res.test["y_true"].sum())
    te = res.test
    fair = audit(te["y_true"], te["score"], te["threshold"].to_numpy(),
                 te[list(policy.attributes)].astype(str), policy, p_true=te["p_true"])
    rows = at_a_glance(fair, policy)
    assert len(rows) == len(policy.attributes) + 1
    decided = [r.name for r in rows if r.verdict in ("pass", "fail")]
    assert len(decided) >= 4, [(r.name, r.verdict) for r in rows]
    assert not [r.name for r in rows if r.contradicts], rows
    for r in rows:                          # every inconclusive row says what it could detect
        if r.verdict == "inconclusive" and r.true_gap is not None:
            assert r.mdd is not None and r.mdd > policy.tolerances["fnr"].difference
