"""Process-wide settings read from the environment (prefix ``GEOGRID_``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/geogrid"


@dataclass(frozen=True)
class StoreSettings:
    """Where the PostGIS store lives; one variable configures the CLI, the API and docker-compose."""

    database_url: str = DEFAULT_DATABASE_URL

    @classmethod
    def from_env(cls) -> StoreSettings:
        return cls(database_url=os.environ.get("GEOGRID_DATABASE_URL", DEFAULT_DATABASE_URL))


def database_url() -> str:
    """The store URL currently configured."""
    return StoreSettings.from_env().database_url
