"""Settings of the explain step (``configs/explain.toml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cin_ml.config import Settings, config_path, read_toml, settings_from_dict
from cin_ml.errors import ConfigError

Level = Literal["feature", "family", "subject", "marks"]


class ExplainSettings(Settings):
    """``[explain]`` section: how contributions are computed and summarized."""

    num_threads: int = Field(0, ge=0)
    chunk_rows: int = Field(25000, ge=100)
    global_sample: int = Field(4000, ge=100)
    stability_resamples: int = Field(20, ge=2)
    stability_top_k: int = Field(10, ge=1)
    top_k: int = Field(3, ge=1, le=10)
    top_k_protective: int = Field(2, ge=0, le=10)
    materiality_points: float = Field(1.0, gt=0, le=50)
    reason_level: Level = "subject"
    reason_level_by_task: dict[str, Level] = Field(default_factory=dict)
    min_direction_consistency: float = Field(0.5, ge=0, le=1)
    dependence_plots: int = Field(4, ge=0, le=20)
    beeswarm_max_rows: int = Field(2000, ge=50)
    min_group_size: int = Field(30, ge=1)
    seed: int = 7

    def level_for(self, task: str | None) -> str:
        """Reason level of ``task`` (``reason_level_by_task``, else ``reason_level``)."""
        return self.reason_level_by_task.get(task or "", self.reason_level)

    @property
    def materiality(self) -> float:
        """Materiality as a probability (``materiality_points / 100``)."""
        return self.materiality_points / 100


class SheetSettings(Settings):
    """``[sheet]`` section: what the explanation sheet says beyond the model."""

    contact_fr: str = Field(min_length=1)
    contact_en: str = Field(min_length=1)


def load_explain_settings(path: Path | str | None = None) -> tuple[ExplainSettings, SheetSettings]:
    """Load both sections of ``configs/explain.toml`` (or ``path``)."""
    p = Path(path) if path is not None else config_path("explain")
    data = read_toml(p)
    out = []
    for section, model in (("explain", ExplainSettings), ("sheet", SheetSettings)):
        if section not in data:
            raise ConfigError(f"{p}: missing section [{section}]")
        out.append(settings_from_dict(model, data[section], f"{p} [{section}]"))
    unknown = sorted(set(data) - {"explain", "sheet"})
    if unknown:
        raise ConfigError(f"{p}: unknown section(s) {', '.join(unknown)}")
    return out[0], out[1]


__all__ = ["ExplainSettings", "SheetSettings", "load_explain_settings"]
