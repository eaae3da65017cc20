"""``locate``: a point in any supported CRS → its grid in every published layer and its admin chain.

Coordinates are converted to WGS84/CGCS2000 first (``geogrid.crs``: GCJ-02 and BD-09 by iterative inverse),
because a phone's offset coordinates would otherwise land 0.5–1 km away, often in the wrong grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from geogrid import crs as crs_mod
from geogrid.routing.index import IndexService, Snapshot, shared_index


class PointError(ValueError):
    """A coordinate that cannot be located; ``field`` names the offending input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@lru_cache(maxsize=64)
def parse_crs_cached(spec: str) -> crs_mod.CrsSpec:
    """``crs.parse_crs`` memoised: the same few names arrive on every request."""
    return crs_mod.parse_crs(spec)


@lru_cache(maxsize=64)
def crs_name(spec: crs_mod.CrsSpec) -> str:
    """``CrsSpec.name`` memoised (it asks pyproj for the EPSG code every time)."""
    return spec.name


def crs_spec(spec: str | None, field: str = "crs") -> crs_mod.CrsSpec:
    try:
        return parse_crs_cached((spec or "wgs84").strip().lower())
    except crs_mod.CrsError as exc:
        raise PointError(field, str(exc)) from exc


def is_geographic(spec: crs_mod.CrsSpec) -> bool:
    return spec.offset is not None or bool(spec.crs is not None and spec.crs.is_geographic)


def to_store_lonlat(x: np.ndarray, y: np.ndarray, spec: crs_mod.CrsSpec) -> tuple[np.ndarray, np.ndarray]:
    """Convert arrays to store lon/lat; callers validated ranges of geographic input already."""
    if spec.offset is None and spec.crs is not None and spec.crs.is_geographic:
        return x, y
    lon, lat = crs_mod.to_lonlat(x, y, spec)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def check_point(x: float, y: float, spec: crs_mod.CrsSpec, xfield: str = "lon", yfield: str = "lat") -> None:
    """Reject non-finite and out-of-range coordinates, naming the field."""
    for value, name in ((x, xfield), (y, yfield)):
        if not math.isfinite(value):
            raise PointError(name, "must be a finite number")
    if is_geographic(spec):
        if not -180.0 <= x <= 180.0:
            raise PointError(xfield, f"longitude {x} is outside [-180, 180]")
        if not -90.0 <= y <= 90.0:
            raise PointError(yfield, f"latitude {y} is outside [-90, 90]")


def point_to_store(x: float, y: float, spec: crs_mod.CrsSpec) -> tuple[float, float]:
    """One validated point in store lon/lat."""
    check_point(x, y, spec)
    if spec.offset is None and spec.crs is not None and spec.crs.is_geographic:
        return float(x), float(y)
    lon, lat = crs_mod.to_lonlat(x, y, spec)
    lon, lat = float(np.asarray(lon)), float(np.asarray(lat))
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise PointError("lon", f"({x}, {y}) does not convert to a valid longitude/latitude in {spec.name}")
    return lon, lat


@dataclass(frozen=True)
class LocateResult:
    """Where a point falls: per-layer grids, the primary layer's grid, the admin chain, ``outside``."""

    lon: float
    lat: float
    crs: str
    answer: dict[str, Any]
    input: dict[str, Any] | None = None  # the point as sent: {"lon", "lat", "crs"} (lon/lat above are CGCS2000)
    version: int = 0  # the store version the index answered for (``Snapshot.version``)

    @property
    def outside(self) -> bool:
        return bool(self.answer["outside"])

    @property
    def grid(self) -> dict[str, Any] | None:
        return self.answer["grid"]

    def to_dict(self) -> dict[str, Any]:
        head = {"lon": self.lon, "lat": self.lat, "crs": self.crs}
        if self.input is not None:
            head["input"] = self.input
        return {**head, **self.answer, "index_version": self.version}


def locate_with(
    index: IndexService, lon: float, lat: float, crs: str | None = "wgs84", layer: str | None = None
) -> LocateResult:
    """Locate with a given index service (the API passes its own, kept fresh by LISTEN)."""
    spec = crs_spec(crs)
    slon, slat = point_to_store(lon, lat, spec)
    name = crs_name(spec)
    return locate_point(index.snapshot, slon, slat, name, layer, {"lon": lon, "lat": lat, "crs": name})


def locate_point(
    snapshot: Snapshot,
    lon: float,
    lat: float,
    crs: str = "EPSG:4490",
    layer: str | None = None,
    sent: dict[str, Any] | None = None,
) -> LocateResult:
    """Locate a point already validated and converted to store lon/lat (intake converts once, then comes here)."""
    if layer is not None and snapshot.layer(layer) is None:
        raise PointError("layer", f"no published plan in layer {layer!r}; layers: {', '.join(snapshot.layer_names)}")
    answer = snapshot.locate_one(lon, lat, layer)
    return LocateResult(lon, lat, crs, answer, sent, snapshot.version)


def locate(session: Session, lon: float, lat: float, crs: str = "wgs84", layer: str | None = None) -> LocateResult:
    """Locate a point against the published plans of the session's store (index refreshed if the store changed)."""
    index = shared_index(session.get_bind().url.render_as_string(hide_password=False))
    index.refresh(conn=session.connection())
    return locate_with(index, lon, lat, crs, layer)
