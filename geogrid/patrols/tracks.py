"""A patrol track from a phone: parsed, validated, converted to the store CRS, cleaned of GPS jumps, stored, and
the grids it visited derived in PostGIS.

Accepted bodies (coordinates in ``crs``: wgs84, cgcs2000, gcj02, bd09 or EPSG:n, like reports):

- a GeoJSON Feature whose geometry is a LineString, with one timestamp per vertex in ``properties.times`` (or
  ``properties.coordinateProperties.times``, the convention of GPX converters);
- a batch of fixes: ``{"fixes": [{"lon": …, "lat": …, "t": …}, …]}``.

Timestamps are ISO 8601 with a UTC offset, or epoch seconds (milliseconds when over 1e11). Points are validated and
converted with the routing module's point functions, the same code every report goes through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from pyproj import Geod
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geogrid.patrols.models import Patrol
from geogrid.patrols.settings import PatrolSettings
from geogrid.routing.locate import PointError, check_point, crs_name, crs_spec, to_store_lonlat

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid
EARTH_M = 6_371_008.8


class TrackError(ValueError):
    """A track we refuse (HTTP 422), naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Track:
    lon: np.ndarray
    lat: np.ndarray
    times: list[datetime]
    crs: str
    dropped: int

    @property
    def length_m(self) -> float:
        return float(GEOD.line_length(self.lon, self.lat))

    def ewkt(self, kind: str = "LINESTRING") -> str:
        coords = ", ".join(f"{x:.8f} {y:.8f}" for x, y in zip(self.lon, self.lat, strict=True))
        return f"SRID=4490;{kind}({coords})"


def _time(value, field: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TrackError(field, f"{value!r} is not an ISO 8601 time or epoch seconds") from None
    if parsed.tzinfo is None:
        raise TrackError(field, "needs a UTC offset (e.g. +08:00) or Z")
    return parsed


def _raw(body: dict) -> tuple[list, list, str]:
    """(coordinates, times, field prefix) from either accepted body shape."""
    if isinstance(body.get("fixes"), list):
        fixes = body["fixes"]
        if not all(isinstance(f, dict) for f in fixes):
            raise TrackError("fixes", "each fix is an object {lon, lat, t}")
        return [[f.get("lon"), f.get("lat")] for f in fixes], [f.get("t") for f in fixes], "fixes"
    feature = body if body.get("type") == "Feature" else None
    geometry = (feature or {}).get("geometry") or {}
    if geometry.get("type") != "LineString":
        raise TrackError("geometry", "send a GeoJSON Feature with a LineString geometry, or {fixes: [...]}")
    props = feature.get("properties") or {}
    times = props.get("times") or (props.get("coordinateProperties") or {}).get("times")
    if not isinstance(times, list):
        raise TrackError("properties.times", "one timestamp per vertex is required")
    return geometry.get("coordinates") or [], times, "geometry.coordinates"


def _drop_jumps(lon: np.ndarray, lat: np.ndarray, times: list[datetime], max_speed: float) -> list[int]:
    """Indices of the fixes kept: each must be reachable from the last kept one below ``max_speed``."""
    keep = [0]
    for i in range(1, len(times)):
        j = keep[-1]
        dy = math.radians(lat[i] - lat[j])
        dx = math.radians(lon[i] - lon[j]) * math.cos(math.radians((lat[i] + lat[j]) / 2))
        metres = EARTH_M * math.hypot(dx, dy)  # equirectangular: exact enough between consecutive fixes
        seconds = (times[i] - times[j]).total_seconds()
        if metres <= max(max_speed * seconds, 5.0):
            keep.append(i)
    return keep


def parse_track(body: dict, crs: str | None, settings: PatrolSettings, now: datetime | None = None) -> Track:
    """Validate and convert a track body; see the module docstring for the shapes accepted."""
    if not isinstance(body, dict):
        raise TrackError("body", "must be a JSON object")
    coords, raw_times, where = _raw(body)
    if not 2 <= len(coords) <= settings.max_fixes:
        raise TrackError(where, f"a track has 2 to {settings.max_fixes} fixes, not {len(coords)}")
    if len(raw_times) != len(coords):
        raise TrackError("times", f"{len(raw_times)} timestamps for {len(coords)} positions")
    try:
        spec = crs_spec(crs or body.get("crs"))
        xs, ys = [], []
        for i, c in enumerate(coords):
            if not isinstance(c, list | tuple) or len(c) < 2 or not all(isinstance(v, int | float) for v in c[:2]):
                raise TrackError(f"{where}[{i}]", "must be [lon, lat] numbers")
            check_point(float(c[0]), float(c[1]), spec, f"{where}[{i}][0]", f"{where}[{i}][1]")
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        lon, lat = to_store_lonlat(np.asarray(xs), np.asarray(ys), spec)
    except PointError as exc:
        raise TrackError(exc.field, exc.reason) from None
    times = [_time(t, f"times[{i}]") for i, t in enumerate(raw_times)]
    if any(b < a for a, b in zip(times, times[1:], strict=False)):
        raise TrackError("times", "fixes must be in time order")
    if times[-1] - times[0] > timedelta(hours=settings.max_hours):
        raise TrackError("times", f"a patrol lasts at most {settings.max_hours:g} hours")
    if times[-1] > (now or datetime.now(UTC)) + timedelta(minutes=5):
        raise TrackError("times", "the track ends in the future")
    keep = _drop_jumps(lon, lat, times, settings.max_speed_ms)
    if len(keep) < 2:
        raise TrackError(where, "fewer than 2 plausible fixes after dropping GPS jumps")
    return Track(lon[keep], lat[keep], [times[i] for i in keep], crs_name(spec), len(coords) - len(keep))


VISITS = text("""
WITH t AS (SELECT geom FROM patrol WHERE id = :pid),
pts AS (SELECT (ST_Dump(ST_GeomFromEWKT(:points))).geom AS g),
hits AS (
  SELECT p.layer_id, g.code,
         ST_Length(geography(ST_Intersection(g.geom, t.geom))) AS len,
         (SELECT count(*) FROM pts WHERE ST_Covers(g.geom, pts.g)) AS fixes
  FROM t JOIN grid g ON ST_Intersects(g.geom, t.geom)
         JOIN plan p ON p.id = g.plan_id AND p.status = 'published'
)
INSERT INTO patrol_grid (patrol_id, layer_id, grid_code, length_m, fixes)
SELECT :pid, layer_id, code, len, fixes FROM hits WHERE len >= :min_len OR fixes >= :min_fixes
""")


def store_patrol(
    session: Session,
    track: Track,
    settings: PatrolSettings,
    *,
    account_id: int | None,
    person_id: int | None,
    idempotency_key: str | None = None,
) -> tuple[Patrol, bool]:
    """Insert the patrol (once per account and Idempotency-Key) and its grid visits; the caller commits."""
    values = {"account_id": account_id, "person_id": person_id, "idempotency_key": idempotency_key,
              "started_at": track.times[0], "ended_at": track.times[-1], "n_fixes": len(track.times),
              "length_m": track.length_m, "crs_in": track.crs, "geom": track.ewkt()}  # fmt: skip
    stmt = insert(Patrol).values(**values).on_conflict_do_nothing(constraint="patrol_idempotency").returning(Patrol.id)
    pid = session.scalar(stmt)
    if pid is None:
        existing = select(Patrol).where(Patrol.account_id == account_id, Patrol.idempotency_key == idempotency_key)
        return session.scalars(existing).one(), False
    params = {"pid": pid, "points": track.ewkt("MULTIPOINT"), "min_len": settings.min_inside_m,
              "min_fixes": settings.min_fixes}  # fmt: skip
    session.execute(VISITS, params)
    return session.get(Patrol, pid), True
