"""Case settings (``GEOGRID_MEDIA_DIR``, ``GEOGRID_CASES_*``): where photos go, how big they may be, local time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CaseSettings:
    """Read per call so tests and deployments can change the environment without restarting imports."""

    media_dir: Path = Path("media")
    max_photo_bytes: int = 5 * 1024 * 1024
    max_photos: int = 6
    timezone: str = "Asia/Shanghai"
    duplicate_radius_m: float = 50.0

    @classmethod
    def from_env(cls) -> CaseSettings:
        env = os.environ
        return cls(
            media_dir=Path(env.get("GEOGRID_MEDIA_DIR", str(cls.media_dir))),
            max_photo_bytes=int(env.get("GEOGRID_CASES_MAX_PHOTO_BYTES", cls.max_photo_bytes)),
            max_photos=int(env.get("GEOGRID_CASES_MAX_PHOTOS", cls.max_photos)),
            timezone=env.get("GEOGRID_CASES_TZ", cls.timezone),
            duplicate_radius_m=float(env.get("GEOGRID_CASES_DUPLICATE_RADIUS_M", cls.duplicate_radius_m)),
        )
