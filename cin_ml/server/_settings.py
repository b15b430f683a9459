"""Team server settings: ``configs/server.toml``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from cin_ml.config import Settings, config_path, load_settings


class ServerSection(Settings):
    backend_store_uri: str = Field(min_length=1)
    data_dir: str = "cinml-server"
    host: str = "127.0.0.1"
    port: int = Field(5000, ge=1, le=65535)
    governance_port: int = Field(5001, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=16)
    default_permission: Literal["READ", "NO_PERMISSIONS"] = "READ"

    @field_validator("backend_store_uri")
    @classmethod
    def _postgres(cls, v: str) -> str:
        if not v.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a PostgreSQL URI (postgresql+psycopg://user@host:port/db)")
        return v.replace("postgresql://", "postgresql+psycopg://", 1)


class ServiceSection(Settings):
    user: str = Field("cin-governance", pattern=r"^[a-z0-9][a-z0-9._@:+-]{0,99}$")


class ServerSettings(Settings):
    """All of ``configs/server.toml``."""

    server: ServerSection
    service: ServiceSection = ServiceSection()


def load_server_settings(path: Path | str | None = None) -> ServerSettings:
    """Load ``configs/server.toml`` (or ``path``)."""
    return load_settings(ServerSettings, "server",
                         path if path is not None else config_path("server"))
