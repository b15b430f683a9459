"""Settings of ``configs/features.toml``: feature construction and the feature policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cin_ml.config import Settings, load_settings


class BuildSettings(Settings):
    """``[features]``: how the student-level frame is built."""

    hours_per_school_year: float = Field(900.0, gt=0)
    """Instructional hours in a school year (denominator of absence rates)."""
    absence_window_years: int = Field(0, ge=0)
    """Years before the prediction point counted in absence rates (0 = all)."""
    pass_mark: float = Field(60.0, ge=0, le=100)
    """Marks strictly below are counted by ``{competency}_n_below_60`` and the indicator."""


class Bilingual(Settings):
    """A text written in both languages of the pages (``{ fr = "...", en = "..." }``)."""

    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)


class PolicySettings(Settings):
    """``[policy]``: what may become a feature, and why."""

    exclude: tuple[str, ...] = ()
    """Features dropped by choice (recorded as excluded with reason ``config``)."""
    extra_columns: tuple[str, ...] = ()
    """Raw ``students.<col>`` or ``schools.<col>`` columns requested as extra features."""
    justifications: dict[str, str | Bilingual] = Field(default_factory=dict)
    """Feature name -> written justification; required for sensitive or quasi-identifying
    features. Recorded with the run and shown in the model card; written as
    ``{ fr = "...", en = "..." }`` it is shown in the card's language (a plain string is the
    English text)."""


class FeatureSettings(Settings):
    """The whole ``configs/features.toml``."""

    features: BuildSettings = Field(default_factory=BuildSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)


def load_feature_settings(path: Path | str | None = None) -> FeatureSettings:
    """Load ``configs/features.toml`` (or ``path``) into :class:`FeatureSettings`."""
    return load_settings(FeatureSettings, "features", path)
