"""Route classes: each request belongs to one, which bounds its concurrent database work and its statement time.

Why: one flooded public list must not take the connections intake needs (issue 10: 200 anonymous connections on
``GET /v1/cases`` starved ``POST /v1/reports`` for 27 s). Classes, most important first:

- ``intake``: reports, Open311 POST, case actions, satisfaction: the citizen's and the field's writes;
- ``reads``: everything else a caller with a key does (consoles, directory, planner, exports);
- ``tiles``: vector tiles; a map opening asks for dozens at once, so they queue (up to 10 s) rather than fail;
- ``features``: OGC API feature items (GIS clients page through them; a short wait, then 503);
- ``public``: anonymous lists and case views (``/v1/cases``, Open311 requests, stats, bulletin): refused fast.

Settings per class come from ``GEOGRID_EDGE_<CLASS>_SLOTS``, ``..._WAIT``, ``..._QUEUE_PER_SLOT`` and
``..._TIMEOUT_MS`` (statement_timeout); defaults below suit one worker on a small machine.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RouteClass:
    """How much concurrent database work a class may do, and how long a request may wait for a slot."""

    name: str
    slots: int  # concurrent requests inside the application (each holds at most one pooled connection)
    queue_per_slot: int  # waiting requests per slot beyond which the class refuses at once (503)
    wait: float  # seconds a request may wait for a slot before 503
    timeout_ms: int  # PostgreSQL statement_timeout for this class's connections

    @property
    def max_waiting(self) -> int:
        return self.slots * self.queue_per_slot


DEFAULTS = (
    RouteClass("intake", slots=8, queue_per_slot=32, wait=15.0, timeout_ms=10_000),  # a report waits, not fails
    RouteClass("reads", slots=6, queue_per_slot=8, wait=5.0, timeout_ms=30_000),
    RouteClass("tiles", slots=4, queue_per_slot=64, wait=10.0, timeout_ms=10_000),
    RouteClass("features", slots=4, queue_per_slot=8, wait=2.0, timeout_ms=10_000),
    RouteClass("public", slots=3, queue_per_slot=2, wait=0.25, timeout_ms=3_000),
)
NAMES = tuple(c.name for c in DEFAULTS)


def _env_number(name: str, default: float, kind: type) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


def from_env() -> dict[str, RouteClass]:
    """The classes with their environment overrides applied."""
    out = {}
    for c in DEFAULTS:
        prefix = f"GEOGRID_EDGE_{c.name.upper()}_"
        out[c.name] = replace(
            c,
            slots=max(1, int(_env_number(prefix + "SLOTS", c.slots, int))),
            queue_per_slot=int(_env_number(prefix + "QUEUE_PER_SLOT", c.queue_per_slot, int)),
            wait=float(_env_number(prefix + "WAIT", c.wait, float)),
            timeout_ms=int(_env_number(prefix + "TIMEOUT_MS", c.timeout_ms, int)),
        )
    return out


_INTAKE = re.compile(
    r"^/(v1/reports(/on-the-spot)?|open311/v2/requests\.\w+|open311/v2/requests/[^/]+/satisfaction\.\w+"
    r"|v1/cases/[^/]+/[^/]+|v1/filings/[^/]+/acknowledge)$"
)
_TILES = re.compile(r"(\.mvt$|/tiles/|^/tiles|^/collections/[^/]+/tiles)")
_FEATURES = re.compile(r"^/collections/[^/]+/items")
_PUBLIC = re.compile(r"^/(v1/cases(/[^/]+)?|open311/.*|v1/stats(/.*)?)$")
UNGATED = re.compile(r"^/(healthz|map(/.*)?|docs|redoc|openapi\.json|favicon\.ico)$")
"""Paths that never touch the database (health, static map files, API docs): no gate, no pool."""


def classify(method: str, path: str, keyed: bool) -> str:
    """The class of a request, from its method, path and whether a key came with it."""
    if method == "POST" and _INTAKE.match(path):
        return "intake"
    if _TILES.search(path):
        return "tiles"
    if _FEATURES.match(path):
        return "features"
    if not keyed and method in ("GET", "HEAD") and _PUBLIC.match(path):
        return "public"
    return "reads"
