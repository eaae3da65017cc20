"""The 2026 calendar the 0200 migration seeded, now read from the maintained package (``calendar_seed``)."""

from __future__ import annotations

from geogrid.cases.calendar_seed import package_days

DEFAULT_YEAR = 2026
DEFAULT_DAYS = package_days({DEFAULT_YEAR})
