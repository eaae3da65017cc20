"""``GEOGRID_PATROL_*``: what counts as a visit, what is plausible, what is compliant."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class PatrolSettings:
    """A grid is visited by a track with ``min_inside_m`` metres or ``min_fixes`` fixes inside it (a patrol standing
    at a market for an hour moves little but leaves many fixes). Fixes implying more than ``max_speed_ms`` are GPS
    jumps and dropped. ``weekly_min`` patrols a week make a grid compliant (seeds/001: 不少于3次)."""

    min_inside_m: float = 50.0
    min_fixes: int = 2
    max_speed_ms: float = 50.0
    max_fixes: int = 20_000
    max_hours: float = 24.0
    weekly_min: int = 3

    @classmethod
    def from_env(cls) -> PatrolSettings:
        env = os.environ
        return cls(
            min_inside_m=float(env.get("GEOGRID_PATROL_MIN_INSIDE_M", cls.min_inside_m)),
            min_fixes=int(env.get("GEOGRID_PATROL_MIN_FIXES", cls.min_fixes)),
            max_speed_ms=float(env.get("GEOGRID_PATROL_MAX_SPEED_MS", cls.max_speed_ms)),
            max_fixes=int(env.get("GEOGRID_PATROL_MAX_FIXES", cls.max_fixes)),
            max_hours=float(env.get("GEOGRID_PATROL_MAX_HOURS", cls.max_hours)),
            weekly_min=int(env.get("GEOGRID_PATROL_WEEKLY_MIN", cls.weekly_min)),
        )
