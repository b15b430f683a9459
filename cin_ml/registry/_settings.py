"""Governance policy: ``configs/governance.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cin_ml.config import Settings, config_path, load_settings
from cin_ml.errors import GovernanceError
from cin_ml.registry._identity import check_identity

GATES = ("history", "approval", "card", "metrics", "baseline", "fairness", "feature_policy",
         "consent", "operator")
"""Every promotion gate, in the order they are reported. ``history`` (the version's tags
agree with the governance history) is always evaluated, whatever ``[gates]`` lists."""


class GeneralSettings(Settings):
    purpose: str = Field(min_length=1)
    identity_env: str = "CIN_ML_USER"
    max_comment_chars: int = Field(2000, ge=50, le=6000)


class PeopleSettings(Settings):
    committee: tuple[str, ...] = Field(min_length=1)
    operators: tuple[str, ...] = Field(min_length=1)
    # data scientists: on a team server they train (EDIT on the task experiments) and read
    data_scientists: tuple[str, ...] = ()
    reviewer_may_operate: bool = False

    @field_validator("committee", "operators", "data_scientists")
    @classmethod
    def _normalize(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(check_identity(x, "listed") for x in v)
        except GovernanceError as exc:
            raise ValueError(str(exc)) from None


class ApprovalSettings(Settings):
    max_validity_days: int = Field(365, ge=1, le=3650)


class FloorSettings(Settings):
    min: dict[str, float] = Field(default_factory=dict)
    beat: dict[str, str] = Field(default_factory=dict)
    margin: float = 0.0
    context_margin: float = Field(0.0, ge=-1, le=1)
    context_rule: Literal["interval", "estimate"] = "interval"


class GateSettings(Settings):
    champion: tuple[str, ...] = GATES
    challenger: tuple[str, ...] = ("card", "feature_policy", "consent", "operator")

    @field_validator("champion", "challenger")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [g for g in v if g not in GATES]
        if bad:
            raise ValueError(f"unknown gate(s) {', '.join(bad)}; known: {', '.join(GATES)}")
        return v

    @model_validator(mode="after")
    def _champion_has_approval(self) -> GateSettings:
        if "approval" not in self.champion or "operator" not in self.champion:
            raise ValueError("champion gates must include 'approval' and 'operator'")
        return self


class CheckSettings(Settings):
    # a training run still RUNNING this long after it started was killed: marked FAILED
    stale_run_hours: float = Field(24.0, gt=0)


class CompareSettings(Settings):
    n_boot: int = Field(300, ge=0, le=10000)
    seed: int = 0
    ci_level: float = Field(0.95, gt=0.5, lt=1.0)


class LockSettings(Settings):
    timeout_s: float = Field(60.0, gt=0)
    stale_after_s: float = Field(300.0, gt=0)


class GovernanceSettings(Settings):
    """All of ``configs/governance.toml``."""

    governance: GeneralSettings
    people: PeopleSettings
    approval: ApprovalSettings = ApprovalSettings()
    floors: FloorSettings = FloorSettings()
    gates: GateSettings = GateSettings()
    compare: CompareSettings = CompareSettings()
    check: CheckSettings = CheckSettings()
    lock: LockSettings = LockSettings()

    def gates_for(self, alias: str) -> tuple[str, ...]:
        """Gates required to move ``alias`` (champion, challenger)."""
        wanted = self.gates.champion if alias == "champion" else self.gates.challenger
        return ("history", *(g for g in wanted if g != "history"))


def load_governance_settings(path: Path | str | None = None) -> GovernanceSettings:
    """Load ``configs/governance.toml`` (or ``path``)."""
    return load_settings(GovernanceSettings, "governance",
                         path if path is not None else config_path("governance"))
