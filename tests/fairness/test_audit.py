"""The audit against Fairlearn (point estimates, bootstrap replay) and against known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cin_ml.errors import DataError, SmallGroupWarning
from cin_ml.fairness import audit

from .conftest import make_predictions

pytestmark = pytest.mark.filterwarnings("ignore::cin_ml.errors.SmallGroupWarning")

THRESHOLD = 0.25


def _mf(y, pred, sf, metrics, **kw):
    from fairlearn.metrics import MetricFrame

    return MetricFrame(metrics=metrics, y_true=y, y_pred=pred, sensitive_features=sf, **kw)


def _fl_metrics():
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import precision_score

    return {"selection_rate": selection_rate, "recall": true_positive_rate,
            "fnr": false_negative_rate, "fpr": false_positive_rate,
            "precision": precision_score}


@pytest.mark.parametrize("attrs", [("language_group",), ("sex", "immigration_generation")])
def test_point_estimates_equal_metricframe(policy, attrs):
    from sklearn.metrics import roc_auc_score

    y, s, g, _ = make_predictions(8000, seed=3)
    res = audit(y, s, THRESHOLD, g, policy, n_boot=20)
    flagged = (s >= THRESHOLD).astype(int)
    sf = g[list(attrs)]
    by_pred = _mf(y, flagged, sf, _fl_metrics()).by_group
    by_score = _mf(y, s, sf, {"auc": roc_auc_score,
                              "calibration_gap": lambda t, p: np.mean(p) - np.mean(t),
                              "n": lambda t, p: len(t)}).by_group
    b = res.breakdown(*attrs)
    assert len(b.groups) == len(by_pred)
    for grp in b.groups:
        key = grp.labels if len(attrs) > 1 else grp.labels[0]
        for m in ("selection_rate", "recall", "fnr", "fpr", "precision"):
            assert grp.metrics[m].value == pytest.approx(by_pred.loc[key, m], abs=1e-9), (key, m)
        for m in ("auc", "calibration_gap"):
            assert grp.metrics[m].value == pytest.approx(by_score.loc[key, m], abs=1e-9), (key, m)
        assert grp.n == by_score.loc[key, "n"]
    overall = _mf(y, flagged, g["sex"], _fl_metrics()).overall
    for m in ("selection_rate", "recall", "fnr", "fpr", "precision"):
        assert res.overall[m].value == pytest.approx(overall[m], abs=1e-9)


def _fairlearn_resamples(n: int, n_boot: int, seed: int) -> list[np.ndarray]:
    """The row indices MetricFrame draws (fairlearn.metrics._bootstrap + DataFrame.sample)."""
    rs = np.random.default_rng(seed).integers(0, np.iinfo(np.uint32).max, size=n_boot,
                                              dtype=np.uint32)
    return [np.random.RandomState(r).randint(0, n, size=n) for r in rs]


def test_bootstrap_intervals_equal_fairlearn_on_replayed_resamples(policy):
    y, s, g, _ = make_predictions(1500, seed=5)
    n_boot, seed, q = 40, 11, [0.025, 0.975]
    flagged = (s >= THRESHOLD).astype(int)
    mf = _mf(y, flagged, g["sex"], _fl_metrics(), n_boot=n_boot, ci_quantiles=q,
             random_state=seed)
    res = audit(y, s, THRESHOLD, g, policy, resamples=_fairlearn_resamples(len(y), n_boot, seed))
    lo, hi = mf.by_group_ci
    for grp in res.breakdown("sex").groups:
        for m in ("selection_rate", "recall", "fnr", "fpr", "precision"):
            e = grp.metrics[m]
            assert e.low == pytest.approx(lo.loc[grp.labels[0], m], abs=1e-9), m
            assert e.high == pytest.approx(hi.loc[grp.labels[0], m], abs=1e-9), m
    olo, ohi = mf.overall_ci
    assert res.overall["fnr"].low == pytest.approx(olo["fnr"], abs=1e-9)
    assert res.overall["fnr"].high == pytest.approx(ohi["fnr"], abs=1e-9)

    # our own seeded resampling: close to the normal approximation of a binomial proportion
    own = audit(y, s, THRESHOLD, g, policy, n_boot=2000, seed=1).breakdown("sex")
    for grp in own.groups:
        e, pos = grp.metrics["fnr"], grp.counts["positives"]
        se = np.sqrt(e.value * (1 - e.value) / pos)
        assert e.low == pytest.approx(e.value - 1.96 * se, abs=0.015)
        assert e.high == pytest.approx(e.value + 1.96 * se, abs=0.015)


def test_no_disparity_no_fail(policy):
    y, s, g, p = make_predictions(20000, seed=8)
    res = audit(y, s, THRESHOLD, g, policy, n_boot=150, p_true=p)
    fails = {(b, m) for b, ms in res.verdict_table.items() for m, v in ms.items() if v == "fail"}
    assert not fails
    assert res.verdict("sex", "fnr") == "pass"
    assert res.verdict("language_group", "fnr") == "pass"


def test_injected_disparity_fails_that_group_and_metric_only(policy):
    y, s, g, p = make_predictions(20000, seed=8, miss_group=("language_group", "allophone"),
                                  miss_strength=1.2)
    res = audit(y, s, THRESHOLD, g, policy, n_boot=150, p_true=p)
    lang = res.breakdown("language_group")
    assert lang.verdicts["fnr"] == "fail"
    assert lang.group("allophone").verdicts["fnr"] == "fail"
    assert lang.group("anglophone").verdicts["fnr"] == "pass"
    assert lang.group("allophone").difference["fnr"].low > 0.1
    for attr in ("sex", "intervention_plan", "immigration_generation", "imse_band"):
        assert res.verdict(attr, "fnr") == "pass", attr
    # truth diagnostics: the allophone at-risk students are really missed more often
    assert lang.group("allophone").metrics["fnr_true"].value > \
        lang.group("francophone").metrics["fnr_true"].value + 0.1


def test_ratio_only_trap_is_flagged_by_the_fnr_ceiling(policy):
    # reference FNR 0.9, group FNR 1.0: ratio 1.11 is inside 0.8-1.25
    n_a, n_b = 2000, 800
    y = np.r_[np.ones(800), np.zeros(1200), np.ones(320), np.zeros(480)].astype(int)
    s = np.r_[np.where(np.arange(800) < 80, 0.9, 0.1), np.full(1200, 0.05),
              np.full(320, 0.1), np.full(480, 0.05)]
    g = make_predictions(n_a + n_b, seed=0)[2]
    g["sex"] = ["F"] * n_a + ["M"] * n_b
    res = audit(y, s, 0.5, g, policy.model_copy(update={"fnr_ceiling": 0.5}), n_boot=100)
    m = res.breakdown("sex").group("M")
    assert m.metrics["fnr"].value == 1.0
    assert 0.8 <= m.ratio["fnr"].value <= 1.25
    flags = [f for f in res.fnr_flags if f.breakdown == "sex" and f.labels == ("M",)]
    assert flags and flags[0].confirmed


def test_verdict_rule_both_vs_either(policy):
    # selection rate 5% (F, reference) vs 12% (M): ratio 2.4 is far outside 0.8-1.25 but the
    # difference 0.07 is inside 0.10: immaterial in absolute terms ("both"), a fail ("either")
    rng = np.random.default_rng(0)
    n = 20000
    g = make_predictions(n, seed=0)[2]
    g["sex"] = np.r_[["F"] * (n // 2 + 1), ["M"] * (n // 2 - 1)]
    flag = np.r_[rng.random(n // 2 + 1) < 0.05, rng.random(n // 2 - 1) < 0.12]
    s = np.where(flag, 0.8, 0.2)
    y = (rng.random(n) < np.where(flag, 0.6, 0.1)).astype(int)
    # selection rate is informational in the default policy: judge it here, two-sided
    pol = policy.model_copy(update={
        "intersections": "none", "secondary_metrics": ("selection_rate",),
        "informational_metrics": ()})
    both = audit(y, s, 0.5, g, pol, n_boot=100).breakdown("sex")
    either = audit(y, s, 0.5, g, pol.model_copy(update={"verdict_rule": "either"}),
                   n_boot=100).breakdown("sex")
    m = both.group("M")
    assert m.ratio["selection_rate"].low > 1.25
    assert m.difference["selection_rate"].high < 0.10
    assert m.verdicts["selection_rate"] == "pass"
    assert either.group("M").verdicts["selection_rate"] == "fail"


def test_small_cells_suppressed_everywhere(policy):
    y, s, g, _ = make_predictions(6000, seed=2, small_cell=True)
    with pytest.warns(SmallGroupWarning):
        res = audit(y, s, THRESHOLD, g, policy, n_boot=50)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert "autre" in text  # listed by label only
    for b in d["breakdowns"]:
        sizes = g.groupby(b["attributes"], observed=True).size()
        for grp in b["groups"]:
            key = tuple(grp["labels"]) if len(grp["labels"]) > 1 else grp["labels"][0]
            if sizes.loc[key] < policy.suppress_below:
                assert grp["suppressed"] == "small"
            if grp["suppressed"]:
                assert grp["n"] is None
                assert all(v is None for v in grp["counts"].values())
                for part in ("metrics", "difference", "ratio"):
                    assert all(e[k] is None for e in grp[part].values() for k in e)
        if len(b["attributes"]) == 1:  # a lone blank cell could be recovered from the total
            assert sum(bool(grp["suppressed"]) for grp in b["groups"]) != 1
    lang = res.breakdown("language_group")
    assert lang.group("autre").suppressed == "small"
    assert lang.group("autre").verdicts["fnr"] == "insufficient_data"
    assert any(grp.suppressed == "complementary" for grp in lang.groups)
    for f in d["fnr_ceiling_flags"]:
        assert not f["suppressed"] or f["fnr"]["value"] is None


def test_to_dict_is_json_safe_and_deterministic(policy):
    y, s, g, _ = make_predictions(3000, seed=4)
    a = audit(y, s, THRESHOLD, g, policy, n_boot=60, seed=3).to_dict()
    b = audit(y, s, THRESHOLD, g, policy, n_boot=60, seed=3).to_dict()
    assert json.dumps(a, allow_nan=False) == json.dumps(b, allow_nan=False)
    assert list(a) == ["kind", "n", "threshold", "n_boot", "seed", "has_truth", "policy",
                       "overall", "worst_verdict", "verdicts", "fnr_ceiling",
                       "fnr_ceiling_flags",
                       "breakdowns"]
    fnr = a["overall"]["fnr"]
    assert fnr["low"] < fnr["value"] < fnr["high"]


def test_invalid_inputs_name_the_culprit(policy):
    y, s, g, _ = make_predictions(500, seed=1)
    with pytest.raises(DataError, match="imse_band"):
        audit(y, s, THRESHOLD, g.drop(columns="imse_band"), policy, n_boot=10)
    with pytest.raises(DataError, match="y_true"):
        audit(np.where(y == 1, 2, 0), s, THRESHOLD, g, policy, n_boot=10)
    with pytest.raises(DataError, match="y_score"):
        audit(y, s[:-1], THRESHOLD, g, policy, n_boot=10)
    with pytest.raises(DataError, match="y_score"):
        audit(y, np.where(np.arange(500) == 3, np.nan, s), THRESHOLD, g, policy, n_boot=10)


def test_missing_attribute_values_form_their_own_group(policy):
    y, s, g, _ = make_predictions(3000, seed=6)
    g = g.copy()
    g.loc[g.index[:200], "immigration_generation"] = None
    res = audit(y, s, THRESHOLD, g, policy, n_boot=20)
    assert res.breakdown("immigration_generation").group("(missing)").n == 200
    assert isinstance(res.breakdown("sex").groups[0].labels[0], str)
    assert pd.isna(None)  # sanity: the None above is a missing value


def test_harm_direction_names_the_worse_off_group_whichever_is_the_reference(policy):
    # the reference (francophone, the largest group) is the one whose at-risk students are
    # missed: the other groups are better off and pass, the reference itself fails
    y, s, g, p = make_predictions(20000, seed=8, miss_group=("language_group", "francophone"),
                                  miss_strength=1.2)
    pol = policy.model_copy(update={"intersections": "none"})
    lang = audit(y, s, THRESHOLD, g, pol, n_boot=150, p_true=p).breakdown("language_group")
    ref = lang.group("francophone")
    assert ref.is_reference and ref.verdicts["fnr"] == "fail"
    for other in ("allophone", "anglophone"):
        grp = lang.group(other)
        assert grp.verdicts["fnr"] == "pass", other
        assert grp.difference["fnr"].high < -0.10  # still reported, with its interval
    assert lang.verdicts["fnr"] == "fail"
    # same data, the worse-off group is no longer the reference: the same fail, on that group
    named = audit(y, s, THRESHOLD, g, pol.model_copy(update={
        "reference_groups": {"language_group": "allophone"}}), n_boot=150)
    b = named.breakdown("language_group")
    assert b.group("francophone").verdicts["fnr"] == "fail"
    assert b.group("allophone").verdicts["fnr"] == "pass"
    # two_sided: the old reading, where the better-off groups are the ones that "fail"
    two = audit(y, s, THRESHOLD, g, pol.model_copy(update={
        "harm_direction": {"fnr": "two_sided"}}), n_boot=150).breakdown("language_group")
    assert two.group("allophone").verdicts["fnr"] == "fail"
    assert two.group("francophone").verdicts["fnr"] == "reference"


def test_better_off_group_passes_in_the_harm_direction(policy):
    # lower scores for the allophone at-risk students: their FNR rises (harm: fail) and their
    # recall falls; their FPR is untouched and passes
    y, s, g, _ = make_predictions(20000, seed=8, miss_group=("language_group", "allophone"),
                                  miss_strength=1.2)
    pol = policy.model_copy(update={"intersections": "none"})
    allo = audit(y, s, THRESHOLD, g, pol, n_boot=150).breakdown("language_group").group(
        "allophone")
    assert allo.verdicts["fnr"] == "fail"
    assert allo.difference["recall"].high < -0.10
    assert allo.verdicts["fpr"] == "pass"


def test_informational_metrics_have_no_verdict_but_full_numbers(policy):
    y, s, g, _ = make_predictions(3000, seed=4)
    res = audit(y, s, THRESHOLD, g, policy, n_boot=30)
    assert "selection_rate" in policy.informational_metrics
    for b in res.breakdowns:
        assert "selection_rate" not in b.verdicts
        for grp in b.groups:
            assert "selection_rate" not in grp.verdicts
            if not grp.suppressed:
                assert grp.metrics["selection_rate"].low <= grp.metrics["selection_rate"].value
    d = res.to_dict()
    assert d["policy"]["informational_metrics"] == ["selection_rate"]
    assert d["policy"]["harm_direction"]["fnr"] == "higher"
