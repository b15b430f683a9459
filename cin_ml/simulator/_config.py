"""Settings of the source-extract simulator (``configs/simulate.toml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from cin_ml.config import Settings, config_path, read_toml, settings_from_dict
from cin_ml.errors import ConfigError

DISPARITY_ATTRIBUTES = {
    "sex": ("F", "M"),
    "language_group": ("francophone", "anglophone", "allophone"),
    "immigration_generation": ("1re", "2e", "3e+"),
}


class Disparity(Settings):
    """A disparity injected on purpose, for the fairness audit to catch.

    - ``mark_inflation``: the group's report-card marks are inflated by ``strength`` points
      (a feature measured worse for one group); the blind ministry exam is not. A model that
      trusts marks under-estimates the group's risk: its at-risk students are missed (FNR).
    - ``label_bias``: for the group, a share ``strength`` of recorded passes are recorded as
      failures (biased labels); the ground truth keeps the true outcome.
    """

    kind: Literal["mark_inflation", "label_bias"]
    attribute: Literal["sex", "language_group", "immigration_generation"]
    group: str
    strength: float = Field(gt=0, le=40)

    @model_validator(mode="after")
    def _check(self) -> Disparity:
        if self.group not in DISPARITY_ATTRIBUTES[self.attribute]:
            raise ValueError(f"group '{self.group}' is not a value of {self.attribute} "
                             f"({', '.join(DISPARITY_ATTRIBUTES[self.attribute])})")
        if self.kind == "label_bias" and self.strength > 1:
            raise ValueError("label_bias strength is a share in (0, 1]")
        return self

    @classmethod
    def parse(cls, spec: str) -> Disparity:
        """Parse ``KIND:ATTRIBUTE=GROUP:STRENGTH`` (e.g. ``mark_inflation:sex=M:8``)."""
        try:
            kind, target, strength = spec.split(":")
            attribute, group = target.split("=")
            data = {"kind": kind, "attribute": attribute, "group": group,
                    "strength": float(strength)}
        except ValueError:
            raise ConfigError(f"--disparity '{spec}': expected KIND:ATTRIBUTE=GROUP:STRENGTH, "
                              "e.g. mark_inflation:language_group=allophone:8") from None
        return settings_from_dict(cls, data, f"--disparity '{spec}'")

    def label(self) -> str:
        return f"{self.kind}:{self.attribute}={self.group}:{self.strength:g}"


class SimulationConfig(Settings):
    """What to simulate. Defaults give one mid-sized CSS; see configs/simulate.toml."""

    n_css: int = Field(1, ge=1, le=200)
    n_students: int = Field(20000, ge=200, le=3_000_000)
    seed: int = Field(7, ge=0)
    extract_year: int = Field(2025, ge=2012, le=2100)
    n_cohorts: int = Field(16, ge=8, le=20)
    missingness: float = Field(0.02, ge=0.0, le=0.5)
    disparity: Disparity | None = None
    class_size: int = Field(25, ge=10, le=40)
    pandemic_year: int = 2020
    student_signal: bool = True
    """False: the grade-4 exam depends only on the school and year (a test knob: a model
    then cannot beat the context-only baseline)."""

    @property
    def last_school_year(self) -> int:
        """Start year of the last complete school year in the extract."""
        return self.extract_year - 1

    @model_validator(mode="after")
    def _check(self) -> SimulationConfig:
        if self.n_students < 200 * self.n_css:
            raise ValueError(f"n_students must be at least 200 per CSS "
                             f"({200 * self.n_css} for {self.n_css} CSS)")
        return self


def load_simulation_config(path: Path | str | None = None, **overrides) -> SimulationConfig:
    """Read ``[simulate]`` of configs/simulate.toml (or ``path``), then apply overrides."""
    p = Path(path) if path is not None else config_path("simulate")
    data = dict(read_toml(p).get("simulate", {})) if (path is not None or p.is_file()) else {}
    for key, value in overrides.items():
        if value is not None:
            data[key] = value
    if isinstance(data.get("disparity"), str):
        data["disparity"] = Disparity.parse(data["disparity"]).model_dump()
    return settings_from_dict(SimulationConfig, data, f"[simulate] ({p.name} + command line)")
