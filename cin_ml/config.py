"""Typed settings loaded from the TOML files of the config folder (``configs/*.toml``).

Every number that is policy (thresholds, tolerances, sizes) lives in a TOML file of the config
folder; each subsystem declares a pydantic model for its file and loads it with
:func:`load_settings`. Unknown keys and out-of-range values raise :class:`ConfigError` with
a message naming the file, section and key. In docstrings, ``configs/<name>.toml`` means that
file in the active config folder.

The config folder is found in this order, the same from any working directory: an explicit
path, ``$CIN_ML_CONFIG_DIR``, then ``cin_ml/configs/`` shipped inside the package. To change
policy, copy the packaged folder (:func:`packaged_config_dir`) and point
``CIN_ML_CONFIG_DIR`` at the copy.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from cin_ml.errors import ConfigError

__all__ = [
    "Settings",
    "config_dir",
    "config_path",
    "packaged_config_dir",
    "load_settings",
    "read_toml",
    "settings_from_dict",
]

S = TypeVar("S", bound="Settings")

_PACKAGE_CONFIGS = Path(__file__).resolve().parent / "configs"


class Settings(BaseModel):
    """Base of every settings model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def packaged_config_dir() -> Path:
    """The config folder shipped inside the package (``cin_ml/configs/``)."""
    return _PACKAGE_CONFIGS


def config_dir() -> Path:
    """The active config folder: ``$CIN_ML_CONFIG_DIR`` if set, else the packaged one.

    The working directory plays no part, except that a relative ``$CIN_ML_CONFIG_DIR`` is
    taken from it (and made absolute here, so messages and records name the real file).
    """
    env = os.environ.get("CIN_ML_CONFIG_DIR")
    return Path(env).expanduser().resolve() if env else _PACKAGE_CONFIGS


def config_path(name: str) -> Path:
    """Path of ``configs/<name>.toml`` in the active config folder."""
    return config_dir() / f"{name}.toml"


def read_toml(path: Path | str) -> dict:
    """Read a TOML file, turning I/O and syntax errors into one-line ConfigErrors."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None


def _format_validation(where: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown key '{loc}'")
        elif err["type"] == "missing":
            parts.append(f"missing key '{loc}'")
        else:
            parts.append(f"'{loc}': {err['msg']} (got {err.get('input')!r})")
    return f"{where}: " + "; ".join(parts)


def settings_from_dict(model: type[S], data: dict, where: str) -> S:
    """Validate ``data`` against ``model``; errors name ``where`` (file and section) and key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(where, exc)) from None


def load_settings(model: type[S], name: str, path: Path | str | None = None,
                  section: str | None = None) -> S:
    """Load ``configs/<name>.toml`` (or ``path``), optionally one ``[section]``, into ``model``.

    Parameters
    ----------
    model
        The pydantic settings class (a :class:`Settings` subclass).
    name
        Config name, e.g. ``"fairness"`` for ``configs/fairness.toml``.
    path
        Explicit file, overriding the config folder.
    section
        Top-level table to read; the whole file when ``None``.
    """
    p = Path(path) if path is not None else config_path(name)
    data = read_toml(p)
    where = str(p)
    if section is not None:
        if section not in data:
            raise ConfigError(f"{p}: missing section [{section}]")
        data = data[section]
        where = f"{p} [{section}]"
    return settings_from_dict(model, data, where)
