"""Settings of scoring by role (``configs/access.toml``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from cin_ml.config import Settings, config_path, read_toml, settings_from_dict
from cin_ml.errors import ConfigError

ROLES = ("school", "css", "ministry")


class ServingSettings(Settings):
    """``[serving]``: which registered models may be scored for a role."""

    aliases: tuple[str, ...] = Field(("champion",), min_length=1)
    purpose: str = ""
    refuse_invalid_consent: bool = True


class BandSettings(Settings):
    """``[bands]``: results bands (0-60 / 61-74 / 75-100) and risk bands."""

    results: tuple[float, float] = (60.0, 74.0)
    watch_ratio: float = Field(0.6, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> BandSettings:
        lo, hi = self.results
        if not 0 < lo < hi < 100:
            raise ValueError(f"results bands must satisfy 0 < low < high < 100; got {lo}, {hi}")
        return self

    def result_labels(self) -> tuple[str, str, str]:
        lo, hi = self.results
        return (f"0-{lo:g}", f"{lo + 1:g}-{hi:g}", f"{hi + 1:g}-100")


class RoleSettings(Settings):
    """``[school]``, ``[css]``, ``[ministry]``: the smallest published cell."""

    min_cell_size: int = Field(1, ge=1, le=1000)
    top_reasons: int = Field(3, ge=1, le=10)
    lang: str = "fr"

    @model_validator(mode="after")
    def _lang(self) -> RoleSettings:
        if self.lang not in ("fr", "en"):
            raise ValueError(f"lang must be fr or en; got {self.lang!r}")
        return self


class AccessSettings(Settings):
    """All of ``configs/access.toml``."""

    serving: ServingSettings = ServingSettings()
    bands: BandSettings = BandSettings()
    school: RoleSettings = RoleSettings()
    css: RoleSettings = RoleSettings(min_cell_size=5)
    ministry: RoleSettings = RoleSettings(min_cell_size=10)

    def role(self, role: str) -> RoleSettings:
        """The settings of ``role`` (ConfigError naming the known roles otherwise)."""
        if role not in ROLES:
            raise ConfigError(f"[access] unknown role {role!r} (known: {', '.join(ROLES)})")
        return getattr(self, role)


def load_access_settings(path: Path | str | None = None) -> AccessSettings:
    """Load ``configs/access.toml`` (or ``path``); errors name the file, section and key."""
    p = Path(path) if path is not None else config_path("access")
    return settings_from_dict(AccessSettings, read_toml(p), str(p))
