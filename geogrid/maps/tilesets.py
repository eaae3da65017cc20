"""Tile matrix sets (OGC TMS 2.0, from morecantile) and vector tiles on the CGCS2000 geographic grid.

``WebMercatorQuad`` tiles are the ones :mod:`geogrid.maps.tiles` renders (the same bytes as ``/tiles/…``).
``CGCS2000Quad`` is the geographic quad tree of the store's own CRS (EPSG:4490, two tiles at zoom 0, like
WorldCRS84Quad): Chinese base maps (天地图 "c" tiles) use this layout, and since it is the store CRS a tile clips the
stored geometry without any transformation.
"""

from __future__ import annotations

from functools import lru_cache

import morecantile
import pyproj
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.maps.cache import CachedTile, etag_for
from geogrid.maps.catalog import Collection
from geogrid.maps.state import MapState
from geogrid.maps.tiles import BUFFER, EXTENT, MAX_ZOOM

WEB_MERCATOR = "WebMercatorQuad"
CGCS2000 = "CGCS2000Quad"

_GEOGRAPHIC_GRID = """
SELECT ST_AsMVT(q, :layer, {extent}, 'geom') FROM (
    SELECT ST_AsMVTGeom(g.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, {srid}), {extent}, {buffer}, true) AS geom,
           g.code, g.name, g.tier, c.code AS community_code, c.name AS community_name
    FROM grid g LEFT JOIN admin_area c ON c.id = g.community_id
    WHERE g.plan_id = :source AND g.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, {srid})) q
"""
_GEOGRAPHIC_ADMIN = """
SELECT ST_AsMVT(q, :layer, {extent}, 'geom') FROM (
    SELECT ST_AsMVTGeom(a.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, {srid}), {extent}, {buffer}, true) AS geom,
           a.code, a.name, a.level
    FROM admin_area a WHERE a.level = :source AND a.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, {srid})) q
"""


@lru_cache(maxsize=1)
def tile_matrix_sets() -> dict[str, morecantile.TileMatrixSet]:
    """The tiling schemes every collection is offered in, by id."""
    cgcs = morecantile.TileMatrixSet.custom(
        [-180.0, -90.0, 180.0, 90.0],
        pyproj.CRS.from_epsg(STORE_SRID),
        matrix_scale=[2, 1],
        minzoom=0,
        maxzoom=MAX_ZOOM,
        id=CGCS2000,
        title="CGCS2000 geographic quad tree (EPSG:4490, 2×1 tiles at zoom 0)",
    ).model_copy(update={"orderedAxes": ["Lat", "Lon"]})  # EPSG:4490's axis order, which the origin follows
    return {WEB_MERCATOR: morecantile.tms.get(WEB_MERCATOR), CGCS2000: cgcs}


def tile_exists(tms: morecantile.TileMatrixSet, z: int, x: int, y: int) -> bool:
    if not 0 <= z <= min(tms.maxzoom, MAX_ZOOM):
        return False
    matrix = tms.matrix(z)
    return 0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight


def matrix_limits(tms: morecantile.TileMatrixSet, bbox: tuple[float, float, float, float] | None) -> list[dict]:
    """``tileMatrixSetLimits``: per zoom, the rows and columns that hold any of the lon/lat ``bbox``."""
    out = []
    for z in range(tms.minzoom, min(tms.maxzoom, MAX_ZOOM) + 1):
        matrix = tms.matrix(z)
        if bbox is None:
            cols, rows = (0, matrix.matrixWidth - 1), (0, matrix.matrixHeight - 1)
        else:
            ul, lr = tms.tile(bbox[0], bbox[3], z), tms.tile(bbox[2], bbox[1], z)
            cols, rows = (
                (max(ul.x, 0), min(lr.x, matrix.matrixWidth - 1)),
                (max(ul.y, 0), min(lr.y, matrix.matrixHeight - 1)),
            )
        out.append(
            {
                "tileMatrix": str(z),
                "minTileRow": rows[0],
                "maxTileRow": rows[1],
                "minTileCol": cols[0],
                "maxTileCol": cols[1],
            }
        )
    return out


def render_geographic(session: Session, collection: Collection, bounds: tuple[float, float, float, float]) -> bytes:
    """One MVT tile whose extent is a lon/lat box of the store CRS (no reprojection: it is the store's own)."""
    x0, y0, x1, y1 = bounds
    margin = (x1 - x0) * BUFFER / EXTENT
    sql = _GEOGRAPHIC_GRID if collection.kind == "grids" else _GEOGRAPHIC_ADMIN
    params = {
        "layer": collection.tile_layer,
        "source": collection.plan_id if collection.kind == "grids" else collection.level,
        "x0": x0,
        "y0": y0,
        "x1": x1,
        "y1": y1,
        "bx0": x0 - margin,
        "by0": y0 - margin,
        "bx1": x1 + margin,
        "by1": y1 + margin,
    }
    data = session.execute(text(sql.format(extent=EXTENT, buffer=BUFFER, srid=STORE_SRID)), params).scalar()
    return bytes(data or b"")


def geographic_tile(state: MapState, session: Session, collection: Collection, z: int, x: int, y: int) -> CachedTile:
    """A CGCS2000Quad tile from the app's tile cache (keyed apart from Web Mercator tiles), rendered on a miss."""
    key = (CGCS2000, *state.tile_key(collection, z, x, y))
    if not collection.is_draft:
        hit = state.cache.get(key)
        if hit is not None:
            return hit
    stamp = state.cache.stamp
    bounds = tile_matrix_sets()[CGCS2000].xy_bounds(morecantile.Tile(x, y, z))
    data = render_geographic(session, collection, tuple(bounds))
    if collection.is_draft:
        return CachedTile(data, etag_for(data))
    return state.cache.put(key, data, stamp=stamp)
