"""Coordinate reference systems: parsing user CRS names, China's offset systems, and metric CRSs.

Chinese phone SDKs and web-map boundary files use two offset "datums" that no EPSG code describes:
GCJ-02 (Amap, Tencent, Baidu's location SDK) and BD-09 (Baidu's map SDK). Their forward transforms are public
formulas; their inverses have no closed form, so we invert by fixed-point iteration, which converges to well under
a millimetre in a few steps (the one-step inverse used by many libraries errs by up to ~5 m).
Everything here is vectorised over numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from geogrid import STORE_SRID

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-10  # ~0.01 mm
_INVERSE_MAX_ITER = 30

OFFSET_KINDS = ("gcj02", "bd09")
ALIASES = {
    "wgs84": 4326,
    "wgs-84": 4326,
    "crs84": 4326,
    "epsg:4326": 4326,
    "cgcs2000": 4490,
    "epsg:4490": 4490,
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
}


class CrsError(ValueError):
    """A CRS name we cannot interpret."""


@dataclass(frozen=True)
class CrsSpec:
    """A parsed CRS: an EPSG/PROJ CRS, or one of the offset systems riding on WGS84 longitude/latitude."""

    offset: str | None = None  # "gcj02", "bd09" or None
    crs: CRS | None = None  # the real CRS when offset is None

    @property
    def name(self) -> str:
        if self.offset:
            return self.offset
        epsg = self.crs.to_epsg() if self.crs is not None else None
        return f"EPSG:{epsg}" if epsg else (self.crs.to_string() if self.crs else "unknown")


def parse_crs(spec: str | int | CRS | None) -> CrsSpec:
    """Parse ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``, ``EPSG:n`` (or a pyproj CRS); None means WGS84."""
    if spec is None:
        return CrsSpec(crs=CRS.from_epsg(4326))
    if isinstance(spec, CRS):
        return CrsSpec(crs=spec)
    if isinstance(spec, int):
        key: str | int = spec
    else:
        text = str(spec).strip()
        key = ALIASES.get(text.lower(), text)
    if key in OFFSET_KINDS:
        return CrsSpec(offset=str(key))
    try:
        if isinstance(key, int):
            return CrsSpec(crs=CRS.from_epsg(key))
        if str(key).isdigit():
            return CrsSpec(crs=CRS.from_epsg(int(key)))
        if not str(key).upper().startswith("EPSG:"):
            raise CrsError(
                f"unknown CRS {spec!r}: use wgs84, cgcs2000, gcj02, bd09 or EPSG:n (e.g. EPSG:4545 for CGCS2000 "
                "Gauss-Krüger CM 108E)"
            )
        return CrsSpec(crs=CRS.from_user_input(str(key).upper()))
    except PyprojCRSError as exc:
        raise CrsError(f"unknown CRS {spec!r}: {exc}") from exc


def out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The GCJ-02 offset is only applied inside this box; outside it the formulas are the identity."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (degrees) at WGS84 ``lon, lat`` (the published polynomial-plus-sines formula)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (forward formula)."""
    lon, lat, scalar = _arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    return _out(lon + dlon, lat + dlat, scalar)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu's forward formula)."""
    lon, lat, scalar = _arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def wgs84_to_bd09(lon, lat):
    """WGS84 → GCJ-02 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon, lat):
    """Solve forward(x) = target by fixed-point iteration x ← x − (forward(x) − target).

    Both offsets are smooth and small (their Jacobian is within 1e-3 of the identity), so each step shrinks the
    error by about a thousand times: three steps reach millimetres, we go to 1e-10 degrees.
    """
    target_lon, target_lat, scalar = _arrays(lon, lat)
    x, y = target_lon.copy(), target_lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = np.asarray(fx) - target_lon, np.asarray(fy) - target_lat
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _INVERSE_TOL_DEG) and np.all(np.abs(ey) < _INVERSE_TOL_DEG):
            break
    return _out(x, y, scalar)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 → WGS84 by iterating the forward formula (round trip well under 0.01 m)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02 by iterating Baidu's forward formula."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS84 by iterating the composed forward formula."""
    return _invert(wgs84_to_bd09, lon, lat)


def to_lonlat(lon, lat, spec: str | CrsSpec | None = None):
    """Convert coordinates given in ``spec`` to WGS84/CGCS2000 longitude, latitude.

    WGS84 and CGCS2000 differ by centimetres, below any grid's precision, so both map to the same numbers.
    """
    spec = spec if isinstance(spec, CrsSpec) else parse_crs(spec)
    if spec.offset == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if spec.offset == "bd09":
        return bd09_to_wgs84(lon, lat)
    if spec.crs.is_geographic:
        lon, lat, scalar = _arrays(lon, lat)
        return _out(lon, lat, scalar)
    return _to_store_transformer(spec.crs.to_wkt()).transform(lon, lat)


@lru_cache(maxsize=64)
def _to_store_transformer(wkt: str) -> Transformer:
    """Building a pyproj Transformer costs milliseconds; a locate request must not pay that each time."""
    return Transformer.from_crs(CRS.from_wkt(wkt), CRS.from_epsg(STORE_SRID), always_xy=True)


def _transform_offset(geoms: np.ndarray, offset: str) -> np.ndarray:
    convert = gcj02_to_wgs84 if offset == "gcj02" else bd09_to_wgs84

    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, apply)


def to_store(gdf: gpd.GeoDataFrame, spec: str | CrsSpec | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in the store CRS (EPSG:4490).

    ``spec`` overrides whatever CRS the frame declares (files from web-map platforms declare WGS84 while holding
    GCJ-02); a frame declaring no CRS is taken as WGS84 unless ``spec`` says otherwise.
    """
    parsed = spec if isinstance(spec, CrsSpec) else (parse_crs(spec) if spec is not None else None)
    if parsed is not None and parsed.offset:
        out = gdf.copy()
        out = out.set_geometry(_transform_offset(np.asarray(gdf.geometry.values), parsed.offset), crs=None)
        return out.set_crs(STORE_SRID, allow_override=True)
    source = parsed.crs if parsed is not None else (gdf.crs or CRS.from_epsg(4326))
    out = gdf.set_crs(source, allow_override=True)
    if CRS.from_user_input(source).equals(CRS.from_epsg(4326)) or CRS.from_user_input(source).to_epsg() == STORE_SRID:
        return out.set_crs(STORE_SRID, allow_override=True)
    return out.to_crs(STORE_SRID)


@lru_cache(maxsize=64)
def from_store_transformer(wkt: str) -> Transformer:
    """EPSG:4490 → the CRS of ``wkt``, built once per CRS (building one costs milliseconds, more under load)."""
    return Transformer.from_crs(CRS.from_epsg(STORE_SRID), CRS.from_wkt(wkt), always_xy=True)


def lonlat_of(geom, crs) -> tuple[float, float]:
    """Longitude, latitude (EPSG:4490) of a point geometry given in ``crs``: for messages that name a place."""
    x, y = shapely.get_coordinates(geom)[0]
    lon, lat = _to_store_transformer(CRS.from_user_input(crs).to_wkt()).transform(x, y)
    return float(lon), float(lat)


def local_metric_crs(lon: float, lat: float) -> CRS:
    """A conformal metric CRS for lengths and areas around ``lon, lat``.

    Inside China's longitudes: CGCS2000 3-degree Gauss-Krüger with the nearest central meridian
    (EPSG:4534 = CM 75°E … EPSG:4554 = CM 135°E, no zone prefix). Elsewhere: the UTM zone (WGS84).
    """
    if 73.5 <= lon < 136.5 and lat > 0:
        return CRS.from_epsg(4534 + round((lon - 75.0) / 3.0))
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs_for(gdf: gpd.GeoDataFrame) -> CRS:
    """The local metric CRS at the centre of ``gdf`` (which may be in any CRS)."""
    if gdf.crs is not None and gdf.crs.is_projected:
        return gdf.crs
    lon0, lat0, lon1, lat1 = gdf.to_crs(4326).total_bounds if gdf.crs else gdf.total_bounds
    return local_metric_crs((lon0 + lon1) / 2.0, (lat0 + lat1) / 2.0)
