"""The paper's baselines recomputed on the shipped data, the validation protocols, and a
reduced (2 x 5-fold) run of our model on real data."""

from __future__ import annotations

import numpy as np
import pytest

from cin_ml.errors import DataError
from cin_ml.external import cross_validate, load_dataset, load_spec, protocol_splits, summarize
from cin_ml.external._spec import ValidationSection
from cin_ml.models import fit_plain

from .conftest import SPECS

# Table 3 of Cortez & Silva (2008), column NV (naive predictor: G2 in A, G1 in B, the
# majority class in C).
PAPER_NV = {("mat", "A"): 91.9, ("por", "A"): 89.7, ("mat", "B"): 83.8, ("por", "B"): 87.5,
            ("mat", "C"): 67.1, ("por", "C"): 84.6}


@pytest.fixture(scope="module")
def datasets():
    return {(s, k): load_dataset(load_spec(SPECS / f"uci-{s}-{k}.toml"))
            for s in ("mat", "por") for k in "ABC"}


@pytest.mark.parametrize("cell", sorted(PAPER_NV))
def test_naive_rule_equals_paper_nv(datasets, cell):
    ds = datasets[cell]
    # without a naive rule (setup C) the paper's NV is the majority class: pass
    acc = float((ds.naive == ds.y).mean()) if ds.naive is not None else 1 - float(ds.y.mean())
    assert round(100 * acc, 1) == PAPER_NV[cell]


@pytest.mark.parametrize(("subject", "n", "passed"), [("mat", 395, 265), ("por", 649, 549)])
def test_pass_counts(datasets, subject, n, passed):
    ds = datasets[(subject, "B")]
    assert len(ds.y) == n and int((ds.y == 0).sum()) == passed


def test_setups_feature_sets(datasets):
    for s in ("mat", "por"):
        a, b, c = (set(datasets[(s, k)].features) for k in "ABC")
        assert {"G1", "G2"} <= a and "G1" in b and "G2" not in b and not {"G1", "G2"} & c
        assert a - b == {"G2"} and b - c == {"G1"}
        assert len(a) == 33 - 1 - 3                          # all but G3 and the audited
        for feats in (a, b, c):
            assert not {"G3", "sex", "school", "address"} & feats


def test_protocol_splits():
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    runs = protocol_splits(ValidationSection(protocol="repeated_kfold", n_splits=5,
                                             n_repeats=3, seed=1), y)
    assert len(runs) == 3 and all(len(r) == 5 for r in runs)
    for r in runs:
        test = np.concatenate([te for _, te in r])
        assert sorted(test) == list(range(100))            # each row tested once per run
        for tr, te in r:
            assert not set(tr) & set(te)
            assert y[te].sum() == 4                         # stratified: 20 % of 20 events
    assert not np.array_equal(runs[0][0][1], runs[1][0][1])  # repeats reshuffle
    (tr, te), = protocol_splits(ValidationSection(protocol="holdout", test_size=0.25), y)[0]
    assert len(te) == 25 and y[te].sum() == 5
    assert len(protocol_splits(ValidationSection(protocol="kfold", n_splits=4), y)) == 1
    with pytest.raises(DataError, match="n_splits = 30 exceeds the 20 rows"):
        protocol_splits(ValidationSection(protocol="kfold", n_splits=30), y)


def test_summarize_t_and_wilson():
    a = summarize([0.90, 0.92, 0.91, 0.93])
    assert a.method == "t" and a.low < a.mean < a.high
    assert a.mean == pytest.approx(0.915)
    # t(0.975, 3) = 3.182; sd = 0.0129
    assert a.high - a.mean == pytest.approx(3.1824 * np.std([.90, .92, .91, .93], ddof=1) / 2,
                                            rel=1e-3)
    w = summarize([0.9], n_rows=100)
    assert w.method == "wilson" and w.low == pytest.approx(0.8256, abs=1e-3)
    assert w.high == pytest.approx(0.9448, abs=1e-3)


def test_fit_plain_uses_training_rows_only(datasets):
    """Changing the labels of the rows a fold model does not train on changes nothing."""
    ds = datasets[("mat", "B")]
    lg = ds.spec.lightgbm().model_copy(update={"num_threads": 1})
    tr, te = np.arange(0, 300), np.arange(300, len(ds.y))
    m = fit_plain(ds.X.iloc[tr], ds.y[tr], lg, inner_valid_fraction=0.2, seed=3)
    again = fit_plain(ds.X.iloc[tr], ds.y[tr], lg, inner_valid_fraction=0.2, seed=3)
    np.testing.assert_array_equal(m.predict(ds.X.iloc[te]), again.predict(ds.X.iloc[te]))
    assert 1 <= m.n_rounds <= lg.max_rounds
    assert set(m.category_maps) == {c for c in ds.features if ds.X[c].dtype == "string"}
    with pytest.raises(DataError, match="single class"):
        fit_plain(ds.X.iloc[:5], np.zeros(5), lg)


@pytest.mark.parametrize("subject", ["mat", "por"])
def test_reduced_cv_beats_majority_and_tracks_naive(datasets, subject):
    """2 x 5-fold on setup B: our accuracy is well above the majority class and within a few
    points of the naive G1 rule (the full 20 x 10 protocol is the benchmark's)."""
    ds = datasets[(subject, "B")]
    v = ValidationSection(protocol="repeated_kfold", n_splits=5, n_repeats=2, seed=5)
    cv = cross_validate(ds, validation=v)
    assert len(cv.model.runs) == 2 and cv.model.method == "t"
    assert cv.majority.mean == pytest.approx(1 - ds.y.mean(), abs=0.01)
    assert cv.naive.mean == pytest.approx(PAPER_NV[(subject, "B")] / 100, abs=5e-4)
    assert cv.model.mean > cv.majority.mean + 0.05
    assert cv.model.mean > cv.naive.mean - 0.02
    assert cv.auc.mean > 0.85
    assert len(cv.oof) == len(ds.y) and set(cv.oof["fold"]) == set(range(5))
    assert ((cv.oof["score"] >= 0.5).astype(int) == cv.oof["flagged"]).all()
    assert len(cv.rounds) == 10
    d = cv.to_dict()
    assert d["accuracy"]["model"]["n_runs"] == 2 and d["n_fits"] == 10


def test_holdout_training_result(datasets):
    """Hold-out: the tracked model is fit on the training part and evaluated on the rest."""
    from cin_ml.external import training_result

    ds = datasets[("mat", "C")]
    v = ValidationSection(protocol="holdout", test_size=0.25, seed=3)
    spec = ds.spec.model_copy(update={"validation": v})
    ds = type(ds)(**{**ds.__dict__, "spec": spec})
    cv = cross_validate(ds)
    assert cv.model.method == "wilson" and len(cv.oof) == 99
    r = training_result(ds, cv, n_boot=20)
    assert r.metrics["n_train"] + r.metrics["n_test"] == 395
    (tr, te), = protocol_splits(v, ds.y)[0]
    assert set(r.test["student_id"]) == set(ds.ids[te])
    assert r.split.to_dict()["evaluation"].startswith("hold-out")
    # the tracked booster is the one that scored the hold-out rows
    X = r.test_features.set_index("student_id")[list(r.features)]
    np.testing.assert_allclose(r.booster.predict(X), r.test.set_index("student_id")
                               .loc[X.index, "score"], rtol=1e-9)
    assert r.metrics["accuracy"]["model"]["mean"] == pytest.approx(r.metrics["test_accuracy"])
    assert "naive" not in r.metrics["accuracy"]     # setup C: majority class only
