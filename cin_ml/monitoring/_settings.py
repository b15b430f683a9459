"""Policy numbers of monitoring (``configs/monitoring.toml``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cin_ml.config import Settings, load_settings


class DriftSettings(Settings):
    psi_threshold: float = Field(0.1, gt=0, le=5)
    alpha: float = Field(0.001, gt=0, lt=1)
    n_bins: int = Field(10, ge=2, le=50)
    min_students: int = Field(100, ge=1)


class ShiftSettings(Settings):
    flag_rate_change: float = Field(0.05, gt=0, lt=1)
    alpha: float = Field(0.001, gt=0, lt=1)


class EstimateSettings(Settings):
    n_simulations: int = Field(1000, ge=50, le=100_000)
    level: float = Field(0.95, gt=0.5, lt=1)
    seed: int = 20221


class MonitoringSettings(Settings):
    """``configs/monitoring.toml``: drift, shift and estimate policy."""

    drift: DriftSettings = DriftSettings()
    shift: ShiftSettings = ShiftSettings()
    estimate: EstimateSettings = EstimateSettings()


def load_monitoring_settings(path: Path | str | None = None) -> MonitoringSettings:
    """Load ``configs/monitoring.toml`` (or ``path``); ConfigError names file, section, key."""
    return load_settings(MonitoringSettings, "monitoring", path=path)
