"""The context-only baseline and its promotion gate: the model must find more at-risk
students than school context alone, and the simulator without student-level signal
(``student_signal=False``) is refused."""

from __future__ import annotations

import numpy as np
import pytest

from cin_ml.features import build_features
from cin_ml.models import train_model
from cin_ml.models._cohorts import context_comparison
from cin_ml.registry._gates import baseline_result
from cin_ml.registry._settings import FloorSettings
from cin_ml.tracking import flat_metrics
from tests.models.test_models import fast_settings


class _Gov:
    floors = FloorSettings()


def _settings():
    """Fast settings; the served refit is not needed to judge the evaluation."""
    s = fast_settings()
    return s.model_copy(update={"validation": s.validation.model_copy(
        update={"refit_on_all": False})})


@pytest.fixture(scope="module")
def frame(small_sim):
    return build_features(small_sim.tables, "ecriture_4e")


def test_gate_passes_a_model_with_student_signal_and_refuses_one_without(frame):
    real = train_model(frame, _settings())
    ctx = real.metrics["context_baseline"]
    assert ctx["inputs"] == ["school_id", "imse_decile", "cohort_year"]
    assert ctx["difference"]["low"] > 0.1                # history finds many more
    gate = baseline_result(flat_metrics(real.metrics), _Gov())
    assert gate.ok, gate.detail

    # the simulator's knob: the exam depends on school and year only (no student signal)
    from cin_ml.simulator import SimulationConfig, simulate

    flat = simulate(SimulationConfig(n_students=3000, seed=11, student_signal=False))
    blind = train_model(build_features(flat.tables, "ecriture_4e"), _settings())
    gate = baseline_result(flat_metrics(blind.metrics), _Gov())
    assert not gate.ok and "does not beat the context-only model" in gate.detail
    assert blind.metrics["context_baseline"]["difference"]["low"] <= 0


def test_context_comparison_is_at_the_served_capacity_per_cohort():
    rng = np.random.default_rng(1)
    cohorts = np.repeat([2018, 2019], 500)
    y = (rng.random(1000) < 0.2).astype(int)
    model = y + rng.normal(0, 0.5, 1000)
    res = context_comparison(y, model, rng.random(1000), cohorts, 0.15, 100, 0.95, 0)
    top = np.zeros(1000, bool)
    for c in (2018, 2019):
        idx = np.flatnonzero(cohorts == c)
        top[idx[np.argsort(-model[idx])[:75]]] = True
    assert res["recall_at_capacity"] == pytest.approx((top & (y == 1)).sum() / y.sum(),
                                                      abs=1e-6)
    d = res["difference"]
    assert d["low"] < d["estimate"] < d["high"]
