"""Vector tiles of a plan's road network and of a draft's blocks (ST_AsMVT, one tile per query).

Why not the collection tiles of ``geogrid.maps``: roads and blocks are layers of one plan, not OGC collections,
and a draft's blocks change with every edit, so they are never cached here.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.maps.tiles import BUFFER, EXTENT

ROADS_MIN_ZOOM = 10
"""Below this a tile would hold a city's roads; the map shows none."""
_MARGIN = BUFFER / EXTENT

_ROADS = text(
    f"""
SELECT ST_AsMVT(q, 'roads', {EXTENT}, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(e.geom, 3857), ST_TileEnvelope(:z, :x, :y), {EXTENT}, {BUFFER}, true) AS geom,
           e.road_class, e.highway
    FROM road_edge e
    WHERE e.network_id = :n AND e.road_class <= :max_class
      AND e.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {_MARGIN}), 4490)) q
"""
)
_BLOCKS = text(
    f"""
SELECT ST_AsMVT(q, 'blocks', {EXTENT}, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(b.geom, 3857), ST_TileEnvelope(:z, :x, :y), {EXTENT}, {BUFFER}, true) AS geom,
           b.id, b.grid_code, round(b.area_m2) AS area_m2, b.cases
    FROM plan_block b
    WHERE b.plan_id = :p AND b.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {_MARGIN}), 4490)) q
"""
)


def road_class_limit(z: int) -> int:
    """Zoomed out, main and secondary roads only; from zoom 14 every class."""
    return 2 if z < 13 else (3 if z < 14 else 4)


def roads_tile(session: Session, network_id: int, z: int, x: int, y: int) -> bytes:
    if z < ROADS_MIN_ZOOM:
        return b""
    row = session.execute(_ROADS, {"n": network_id, "z": z, "x": x, "y": y, "max_class": road_class_limit(z)}).scalar()
    return bytes(row or b"")


def blocks_tile(session: Session, plan_id: int, z: int, x: int, y: int) -> bytes:
    return bytes(session.execute(_BLOCKS, {"p": plan_id, "z": z, "x": x, "y": y}).scalar() or b"")
