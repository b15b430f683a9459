"""Exit outcomes of a virtual CSS: synthesized uncensored, censored like the source, so the
dropout task has labelled cohorts and the source's dropout rate
(cin_ml.virtual_css.synthesis._outcome)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cin_ml.features import build_features, task_population
from cin_ml.models import train_model
from cin_ml.models._settings import ModelSettings
from cin_ml.virtual_css import split_students, synthesize
from cin_ml.virtual_css.synthesis._outcome import draw_outcomes, observed_outcomes

sys.path.insert(0, str(Path(__file__).parent))
from _source_factory import simulated  # noqa: E402


@pytest.fixture(scope="module")
def dropout_css():
    """A 6,000-student CSS (about 300 training students per cohort) and its virtual copy."""
    d = simulated(6000, 13)[3]
    train, _ = split_students(d.tables, 0.2, 0)
    return train, synthesize(train, seed=1)


def _coverage(tables) -> pd.DataFrame:
    pop = task_population(tables, "decrochage")
    g = pop.groupby("cohort_year")["label"]
    return pd.DataFrame({"n": g.size(), "coverage": g.count() / g.size(), "rate": g.mean()})


def test_label_coverage_per_cohort_matches_the_source(dropout_css):
    train, v = dropout_css
    src, virt = _coverage(train), _coverage(v.tables)
    both = src.join(virt, lsuffix="_src", rsuffix="_virt", how="inner")
    assert len(both) >= 8
    old = both.loc[both["coverage_src"] >= 0.95]
    assert len(old) >= 3 and (old["coverage_virt"] >= 0.95).all(), both
    assert (both["coverage_virt"] - both["coverage_src"]).abs().max() <= 0.1, both
    # the censoring is the source's: no exit after the last school year, none before grade 9
    last = int(train["enrolments"]["school_year"].max())
    assert v.tables["outcomes"]["exit_year"].max() <= last
    enr = v.tables["enrolments"]
    at_exit = v.tables["outcomes"].merge(enr, left_on=["student_id", "exit_year"],
                                         right_on=["student_id", "school_year"])
    assert at_exit["grade"].between(9, 11).all()
    assert (at_exit.loc[at_exit["status"] != "decrochage", "grade"] == 11).all()


def test_dropout_rate_of_complete_cohorts_matches_the_source(dropout_css):
    train, v = dropout_css
    src, virt = _coverage(train), _coverage(v.tables)
    complete = src.index[src["coverage"] >= 0.97]
    rate = {name: float((c.loc[complete, "rate"] * c.loc[complete, "n"]).sum()
                        / c.loc[complete, "n"].sum()) for name, c in (("src", src),
                                                                     ("virt", virt))}
    assert rate["src"] > 0.08
    assert abs(rate["virt"] - rate["src"]) <= 0.04, rate


def test_a_decrochage_model_trains_on_the_virtual_css(dropout_css):
    _, v = dropout_css
    # single test cohort, power rule off: the claim is that the virtual CSS has labelled
    # cohorts a model learns from, not rolling-origin validation
    s = ModelSettings.model_validate({"lightgbm": {"num_threads": 1, "max_rounds": 200},
                                      "tuning": {"n_folds": 0},
                                      "validation": {"test_cohorts": 1, "refit_on_all": False,
                                                     "min_test_at_risk": 0},
                                      "evaluation": {"n_boot": 10}})
    result = train_model(build_features(v.tables, "decrochage"), s)
    assert len(result.split.train) >= 1
    assert result.metrics["test_auc"] > 0.6


def test_outcome_draw_is_seeded_and_censoring_is_deterministic(dropout_css):
    _, v = dropout_css
    model = v.context["outcome"]
    assert model["kind"] == "lightgbm" and "cohorts" in model["fit_on"]
    rows = v.virtual_students.head(500)
    a = draw_outcomes(rows, model, np.random.default_rng(5))
    b = draw_outcomes(rows, model, np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)
    assert set(a["exit_status"]) <= {"diplome", "qualification", "decrochage"}
    seen = observed_outcomes(a, 2024, 10.0)
    late = (pd.to_numeric(a["cohort_year"]) + a["exit_offset"]) > 2024
    assert (seen.loc[late, "exit_status"] == "none").all()
    assert (seen.loc[~late, "exit_status"] == a.loc[~late, "exit_status"]).all()
