"""Settings of ``configs/models.toml``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from cin_ml.config import Settings, load_settings


class LightGBMSettings(Settings):
    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(15, ge=2)
    min_data_in_leaf: int = Field(40, ge=1)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    bagging_freq: int = Field(1, ge=0)
    lambda_l2: float = Field(1.0, ge=0)
    max_rounds: int = Field(2000, ge=1)
    early_stopping_rounds: int = Field(50, ge=1)
    seed: int = 7
    num_threads: int = Field(0, ge=0)

    def params(self, n_rows: int | None = None, **override) -> dict:
        """LightGBM parameters; ``num_threads`` resolved for ``n_rows`` training rows
        (:func:`resolve_threads`), never left to OpenMP."""
        p = {"objective": "binary", "metric": "binary_logloss", "verbosity": -1,
             "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
             "min_data_in_leaf": self.min_data_in_leaf,
             "feature_fraction": self.feature_fraction,
             "bagging_fraction": self.bagging_fraction, "bagging_freq": self.bagging_freq,
             "lambda_l2": self.lambda_l2, "seed": self.seed, "deterministic": True,
             "num_threads": resolve_threads(self.num_threads, n_rows)}
        p.update(override)
        return p


PARALLEL_MIN_ROWS = 30000
"""Below this many rows LightGBM gets one thread: a second one saves nothing on small data
and, on a shared machine, OpenMP threads waiting on a busy core made small fits 5-70x slower.
``benchmarks/threads.py`` on this 2-core machine (200 rounds, medians of 3): 2 threads took
1.84x the time of 1 at 2,000 rows, 1.35x at 5,000, 1.02x at 20,000 and 0.80x at 50,000."""


def available_cores() -> int:
    """Cores this process may run on (``os.sched_getaffinity``, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def machine_is_busy(cores: int) -> bool:
    """Whether other work already keeps the cores busy (1-minute load average >= cores -
    0.5): then one thread, since OpenMP threads that wait on a taken core collapse."""
    try:
        return os.getloadavg()[0] >= cores - 0.5
    except OSError:  # pragma: no cover - no load average
        return False


def resolve_threads(n: int = 0, n_rows: int | None = None) -> int:
    """Threads for LightGBM (training and ``pred_contrib``).

    ``n`` if positive (a config's explicit choice), else ``$CIN_ML_THREADS``, else: one
    thread for fewer than :data:`PARALLEL_MIN_ROWS` rows or on a busy machine, and the cores
    this process may use otherwise (never more).
    """
    cores = available_cores()
    if n > 0:
        return min(n, cores)
    env = os.environ.get("CIN_ML_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return min(int(env), cores)
    if cores == 1 or (n_rows is not None and n_rows < PARALLEL_MIN_ROWS):
        return 1
    return 1 if machine_is_busy(cores) else cores


_TUNABLE = ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction",
            "bagging_fraction", "bagging_freq", "lambda_l2")


class TuningSettings(Settings):
    n_folds: int = Field(3, ge=0)
    candidates: tuple[dict[str, float | int], ...] = ()

    @field_validator("candidates")
    @classmethod
    def _tunable(cls, v):
        for cand in v:
            bad = sorted(set(cand) - set(_TUNABLE))
            if bad:
                raise ValueError(f"untunable key(s) {bad}; tunable: {list(_TUNABLE)}")
        return v


class ValidationSettings(Settings):
    min_label_coverage: float = Field(0.95, gt=0, le=1)
    min_cohort_labelled: int = Field(50, ge=1)
    test_cohorts: int = Field(3, ge=1, le=10)
    min_test_at_risk: int = Field(0, ge=0)
    min_train_cohorts: int = Field(2, ge=1, le=10)
    refit_on_all: bool = True


class CalibrationSettings(Settings):
    method: Literal["auto", "platt", "none"] = "auto"
    min_brier_gain: float = Field(0.0002, ge=0)
    n_bins: int = Field(10, ge=2)


class ThresholdSettings(Settings):
    mode: Literal["capacity", "recall"] = "capacity"
    capacity: float = Field(0.15, gt=0, lt=1)
    target_recall: float = Field(0.7, gt=0, le=1)


class EvaluationSettings(Settings):
    n_boot: int = Field(200, ge=0)
    ci_level: float = Field(0.95, gt=0, lt=1)
    seed: int = 11


class BaselineSettings(Settings):
    logistic_c: float = Field(1.0, gt=0)
    logistic_max_iter: int = Field(500, ge=10)


Direction = Literal["increasing", "decreasing", "free"]


class MonotoneSettings(Settings):
    """``[monotone]``: direction of the risk as each feature family's level rises
    (``cin_ml.models._monotone`` says how each feature inherits it)."""

    lecture: Direction = "free"
    ecriture: Direction = "free"
    resoudre: Direction = "free"
    raisonner: Direction = "free"
    absences: Direction = "free"
    parcours: Direction = "free"
    contexte: Direction = "free"
    plan: Direction = "free"
    method: Literal["basic", "intermediate", "advanced"] = "intermediate"

    def families(self) -> dict[str, str]:
        """``{family: direction}`` for every family."""
        return {k: v for k, v in self.model_dump().items() if k != "method"}


class ModelSettings(Settings):
    """The whole ``configs/models.toml``."""

    lightgbm: LightGBMSettings = Field(default_factory=LightGBMSettings)
    tuning: TuningSettings = Field(default_factory=TuningSettings)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)
    threshold: ThresholdSettings = Field(default_factory=ThresholdSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    baselines: BaselineSettings = Field(default_factory=BaselineSettings)
    monotone: MonotoneSettings = Field(default_factory=MonotoneSettings)


def load_model_settings(path: Path | str | None = None) -> ModelSettings:
    """Load ``configs/models.toml`` (or ``path``) into :class:`ModelSettings`."""
    return load_settings(ModelSettings, "models", path)
