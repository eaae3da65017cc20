"""API settings, one class per concern, each read from its own environment prefix."""

from __future__ import annotations

import os
from dataclasses import dataclass

from geogrid.settings import database_url


@dataclass(frozen=True)
class ApiSettings:
    """``GEOGRID_API_*``: how the service presents itself."""

    title: str = "geogrid"
    cors_origins: tuple[str, ...] = ("*",)
    max_batch_points: int = 100_000

    @classmethod
    def from_env(cls) -> ApiSettings:
        origins = os.environ.get("GEOGRID_API_CORS_ORIGINS", "*")
        return cls(
            title=os.environ.get("GEOGRID_API_TITLE", cls.title),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            max_batch_points=int(os.environ.get("GEOGRID_API_MAX_BATCH_POINTS", cls.max_batch_points)),
        )


@dataclass(frozen=True)
class DatabaseSettings:
    """``GEOGRID_DATABASE_URL``: the same variable as the CLI and docker-compose."""

    url: str

    @classmethod
    def from_env(cls) -> DatabaseSettings:
        return cls(url=database_url())
