"""Mapbox vector tiles straight from PostGIS (ST_AsMVT), rendered a metatile at a time.

Why metatiles: a map client asks for a screenful of neighbouring tiles at once; one query that transforms each
feature to Web Mercator once and clips it into a block of tiles costs little more than one tile, and the neighbours
then come from the cache.
"""

from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.maps.catalog import Collection
from geogrid.maps.projected import render_one

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
WEB_MERCATOR_HALF = 20037508.342789244

_GRID_SOURCE = """
SELECT g.code, g.name, g.tier, c.code AS community_code, c.name AS community_name, {geom} AS g3857
FROM grid g LEFT JOIN admin_area c ON c.id = g.community_id
WHERE g.plan_id = :source AND g.geom && ST_Transform(ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 3857), {srid})
"""
# Non-draft plans: geometry already in Web Mercator (geogrid.maps.projected), so the filter is a plain index scan.
_PROJECTED_SOURCE = """
SELECT t.code, t.name, t.tier, t.community_code, t.community_name, {geom} AS g3857
FROM internal.tile_grid t
WHERE t.plan_id = :source AND t.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 3857)
"""
_ADMIN_SOURCE = """
SELECT a.code, a.name, a.level, {geom} AS g3857
FROM admin_area a
WHERE a.level = :source AND a.geom && ST_Transform(ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 3857), {srid})
"""
# No "geom IS NOT NULL" filter: ST_AsMVT skips rows whose clipped geometry is NULL, and the filter would be pushed
# into the subquery and clip every feature twice.
_BLOCK = """
WITH f AS MATERIALIZED ({source}),
t AS (SELECT tx, ty, ST_TileEnvelope(:z, tx, ty) AS env
      FROM generate_series(:x0, :x1) tx, generate_series(:y0, :y1) ty)
SELECT t.tx, t.ty,
       (SELECT ST_AsMVT(q, :layer, {extent}, 'geom') FROM (
            SELECT ST_AsMVTGeom(f.g3857, t.env, {extent}, {buffer}, true) AS geom, {columns}
            FROM f WHERE f.g3857 && ST_Expand(t.env, :margin)) q) AS mvt
FROM t
"""
# One tile: no materialised feature set to share, so clip straight from the index scan.
_SINGLE = """
SELECT :x0 AS tx, :y0 AS ty, ST_AsMVT(q, :layer, {extent}, 'geom') AS mvt FROM (
    SELECT ST_AsMVTGeom(f.g3857, ST_TileEnvelope(:z, :x0, :y0), {extent}, {buffer}, true) AS geom, {columns}
    FROM ({source}) f) q
"""


def tile_fields(collection: Collection) -> dict[str, str]:
    """The properties every feature of the collection's tile layer carries, with their TileJSON types."""
    if collection.kind == "grids":
        names = ("code", "name", "tier", "community_code", "community_name")
    else:
        names = ("code", "name", "level")
    return dict.fromkeys(names, "String")


def tile_span(z: int) -> float:
    """Width of one tile at zoom ``z`` in Web Mercator metres."""
    return 2 * WEB_MERCATOR_HALF / (1 << z)


def metatile_size(z: int) -> int:
    """How many tiles per side one query renders: whole blocks at street zooms, single tiles when zoomed out."""
    if z >= 12:
        return 4
    return 2 if z >= 8 else 1


def block_of(z: int, x: int, y: int) -> tuple[int, int, int, int]:
    """The metatile (x0, y0, x1, y1) containing tile (z, x, y), clipped to the tile matrix."""
    m = metatile_size(z)
    n = 1 << z
    x0, y0 = x - x % m, y - y % m
    return x0, y0, min(x0 + m, n) - 1, min(y0 + m, n) - 1


def valid_tile(z: int, x: int, y: int) -> str | None:
    """Why (z, x, y) is not a tile of WebMercatorQuad, or None."""
    if not 0 <= z <= MAX_ZOOM:
        return f"zoom must be between 0 and {MAX_ZOOM}"
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        return f"x and y must be between 0 and {n - 1} at zoom {z}"
    return None


def render_block(
    session: Session, collection: Collection, z: int, x: int, y: int, whole: bool = True, projected: bool = False
) -> dict[tuple[int, int], bytes]:
    """Render the metatile around (z, x, y), or only that tile when not ``whole``.

    ``projected``: the plan's grids are in ``tile_grid`` (see :func:`geogrid.maps.projected.ensure_projected`).

    Returns {(x, y): mvt bytes} for every tile rendered (empty bytes where there is nothing).
    """
    x0, y0, x1, y1 = block_of(z, x, y) if whole else (x, y, x, y)
    span = tile_span(z)
    margin = span * BUFFER / EXTENT
    bx0 = -WEB_MERCATOR_HALF + x0 * span - margin
    bx1 = -WEB_MERCATOR_HALF + (x1 + 1) * span + margin
    by1 = WEB_MERCATOR_HALF - y0 * span + margin
    by0 = WEB_MERCATOR_HALF - (y1 + 1) * span - margin
    envelope = (bx0, max(by0, -WEB_MERCATOR_HALF), bx1, min(by1, WEB_MERCATOR_HALF))
    if projected and z >= 12 and collection.kind == "grids" and (x0, y0) == (x1, y1):
        tile = (z, x0, y0)
        return {
            (x0, y0): render_one(session, collection.plan_id, tile, collection.tile_layer, envelope, EXTENT, BUFFER)
        }
    # Zoomed out, vertices closer than a quarter pixel cannot show: drop them before clipping.
    geom = (
        "ST_Transform(geom, 3857)" if z >= 12 else f"ST_Simplify(ST_Transform(geom, 3857), {span / EXTENT / 4!r}, true)"
    )
    if collection.kind == "grids" and projected:
        source = _PROJECTED_SOURCE.format(geom=geom.replace("ST_Transform(geom, 3857)", "t.geom", 1))
        columns = "f.code, f.name, f.tier, f.community_code, f.community_name"
        key = collection.plan_id
    elif collection.kind == "grids":
        source = _GRID_SOURCE.format(geom=geom.replace("geom", "g.geom", 1), srid=STORE_SRID)
        columns = "f.code, f.name, f.tier, f.community_code, f.community_name"
        key = collection.plan_id
    else:
        source = _ADMIN_SOURCE.format(geom=geom.replace("geom", "a.geom", 1), srid=STORE_SRID)
        columns = "f.code, f.name, f.level"
        key = collection.level
    template = _SINGLE if (x0, y0) == (x1, y1) else _BLOCK
    sql = template.format(source=source, extent=EXTENT, buffer=BUFFER, columns=columns)
    params = dict(source=key, bx0=envelope[0], by0=envelope[1], bx1=envelope[2], by1=envelope[3])
    params.update(z=z, x0=x0, x1=x1, y0=y0, y1=y1, layer=collection.tile_layer, margin=margin)
    rows = session.execute(text(sql), params).all()
    return {(r.tx, r.ty): bytes(r.mvt or b"") for r in rows}


def lonlat_bounds_to_zoom_center(bbox: tuple[float, float, float, float], minzoom: int, maxzoom: int) -> list[float]:
    """A TileJSON ``center`` (lon, lat, zoom) that shows the whole bbox on a 1024-pixel screen."""
    x0, y0, x1, y1 = bbox
    width = max(x1 - x0, 1e-6)
    zoom = int(max(minzoom, min(maxzoom, math.floor(math.log2(360.0 * 4 / width)))))
    return [(x0 + x1) / 2, (y0 + y1) / 2, zoom]
