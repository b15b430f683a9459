"""The thread policy: explicit choices win, small data and a busy machine get one thread."""

from __future__ import annotations

import os

import pytest

from cin_ml.models import PARALLEL_MIN_ROWS, available_cores, resolve_threads


@pytest.fixture()
def two_idle_cores(monkeypatch):
    monkeypatch.delenv("CIN_ML_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert available_cores() == 2


def test_small_data_gets_one_thread(two_idle_cores):
    assert resolve_threads(0, PARALLEL_MIN_ROWS - 1) == 1
    assert resolve_threads(0, PARALLEL_MIN_ROWS) == 2
    assert resolve_threads(0) == 2


def test_a_busy_machine_gets_one_thread(two_idle_cores, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (1.7, 1.2, 0.9))
    assert resolve_threads(0, 10 * PARALLEL_MIN_ROWS) == 1


def test_explicit_choices_win_but_never_exceed_the_cores(two_idle_cores, monkeypatch):
    assert resolve_threads(1, 10 * PARALLEL_MIN_ROWS) == 1
    assert resolve_threads(8, 10) == 2
    monkeypatch.setenv("CIN_ML_THREADS", "1")
    assert resolve_threads(0, 10 * PARALLEL_MIN_ROWS) == 1
    monkeypatch.setenv("CIN_ML_THREADS", "2")
    assert resolve_threads(0, 10) == 2


def test_training_params_carry_the_resolved_threads(two_idle_cores):
    from cin_ml.models import load_model_settings

    lg = load_model_settings().lightgbm
    assert lg.params(n_rows=100)["num_threads"] == 1
    assert lg.params(n_rows=10 * PARALLEL_MIN_ROWS)["num_threads"] == 2
