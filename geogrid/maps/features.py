"""GeoJSON features built inside PostGIS: the database writes each feature's JSON, Python only joins them.

Coordinates leave as CRS84 (lon, lat) by default; for EPSG:4490 and EPSG:4326 the axes are swapped to the
authority order (lat, lon) as OGC API – Features Part 2 requires. CGCS2000 and WGS84 coordinates are numerically
identical at the precision served (7 decimals ≈ 1 cm), so no datum shift is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.maps.catalog import Collection
from geogrid.maps.filters import ADMIN_QUERYABLES, GRID_QUERYABLES, Queryable, Where

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG4490 = f"http://www.opengis.net/def/crs/EPSG/0/{STORE_SRID}"
SUPPORTED_CRS = (CRS84, EPSG4326, EPSG4490)
_CRS_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    CRS84.lower(): CRS84,
    "epsg:4326": EPSG4326,
    EPSG4326.lower(): EPSG4326,
    f"epsg:{STORE_SRID}": EPSG4490,
    EPSG4490.lower(): EPSG4490,
}
PRECISION = 7

# Property name -> SQL expression, per collection kind. Keys are the only names a client may ask for.
GRID_PROPERTIES = {
    "code": "g.code",
    "local_code": "g.local_code",
    "name": "g.name",
    "tier": "g.tier",
    "community_code": "c.code",
    "community_name": "c.name",
    "street_code": "s.code",
    "street_name": "s.name",
    "area_m2": "round(g.area_m2::numeric, 1)",
    "diameter_m": "round(g.diameter_m::numeric, 1)",
}
ADMIN_PROPERTIES = {
    "code": "g.code",
    "name": "g.name",
    "level": "g.level",
    "parent_code": "p.code",
    "area_m2": "round(g.area_m2::numeric, 1)",
}
TABLES = {"grids": "grid", "admin": "admin_area"}
JOINS = {
    "grids": "LEFT JOIN admin_area c ON c.id = g.community_id LEFT JOIN admin_area s ON s.id = c.parent_id",
    "admin": "LEFT JOIN admin_area p ON p.id = g.parent_id",
}
SOURCES = {kind: f"{TABLES[kind]} g {JOINS[kind]}" for kind in TABLES}


def parse_crs_uri(value: str | None) -> str | None:
    """The canonical URI for a supported CRS spelling, or None when it is not supported."""
    if value is None:
        return CRS84
    return _CRS_ALIASES.get(value.strip().lower())


def lat_first(crs_uri: str) -> bool:
    return crs_uri != CRS84


def properties_of(collection: Collection) -> dict[str, str]:
    return GRID_PROPERTIES if collection.kind == "grids" else ADMIN_PROPERTIES


def queryables_of(collection: Collection) -> dict[str, Queryable]:
    return GRID_QUERYABLES if collection.kind == "grids" else ADMIN_QUERYABLES


@dataclass(frozen=True)
class Query:
    """A validated items request."""

    bbox: tuple[float, float, float, float] | None = None  # lon/lat order, store CRS
    limit: int = 100
    offset: int = 0
    properties: tuple[str, ...] | None = None
    crs: str = CRS84
    where: Where | None = None  # property filters and CQL2 (geogrid.maps.filters)

    @property
    def filtered(self) -> bool:
        return self.bbox is not None or bool(self.where and self.where.clauses)


def _where(collection: Collection, query: Query, params: dict) -> str:
    if collection.kind == "grids":
        params["source"] = collection.plan_id
        clauses = ["g.plan_id = :source"]
    else:
        params["source"] = collection.level
        clauses = ["g.level = :source"]
    if query.bbox is not None:
        params.update(zip(("bx0", "by0", "bx1", "by1"), query.bbox, strict=True))
        clauses.append(f"ST_Intersects(g.geom, ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, {STORE_SRID}))")
    if query.where is not None and query.where.clauses:
        params.update(query.where.params)
        clauses.append(query.where.sql)
    return " AND ".join(clauses)


def _from(collection: Collection, query: Query) -> str:
    """The table alone, or with the admin joins when a filter reads community, street or parent columns."""
    joined = query.where is not None and query.where.joined
    return SOURCES[collection.kind] if joined else f"{TABLES[collection.kind]} g"


def _feature_sql(collection: Collection, query: Query) -> str:
    props = properties_of(collection)
    names = query.properties if query.properties is not None else tuple(props)
    pairs = ", ".join(f"'{n}', {props[n]}" for n in names)
    geom = "ST_FlipCoordinates(g.geom)" if lat_first(query.crs) else "g.geom"
    return (
        "json_build_object('type', 'Feature', 'id', g.code, "
        f"'geometry', ST_AsGeoJSON({geom}, {PRECISION}, 0)::json, "
        f"'properties', json_build_object({pairs}))::text"
    )


def fetch_items(session: Session, collection: Collection, query: Query) -> tuple[list[str], bool]:
    """One page of features as JSON texts, and whether another page follows (read one row ahead, never COUNT).

    The page's ids are chosen first and only those rows are turned into JSON: otherwise PostgreSQL may build the
    JSON of every matching row before sorting and cutting the page.
    """
    params: dict = {"limit": query.limit + 1, "offset": query.offset}
    page = (
        f"SELECT g.id FROM {_from(collection, query)} WHERE {_where(collection, query, params)} "
        "ORDER BY g.id LIMIT :limit OFFSET :offset"
    )
    sql = (
        f"SELECT {_feature_sql(collection, query)} FROM ({page}) k "
        f"JOIN {TABLES[collection.kind]} g ON g.id = k.id {JOINS[collection.kind]} ORDER BY g.id"
    )
    rows = session.execute(text(sql), params).scalars().all()
    return rows[: query.limit], len(rows) > query.limit


def count_matched(session: Session, collection: Collection, query: Query, cap: int) -> int | None:
    """How many features match, or None when more than ``cap`` do (counting stops there: it must stay cheap)."""
    params: dict = {"cap": cap + 1}
    matching = f"SELECT 1 FROM {_from(collection, query)} WHERE {_where(collection, query, params)} LIMIT :cap"
    sql = f"SELECT count(*) FROM ({matching}) m"
    n = session.execute(text(sql), params).scalar_one()
    return n if n <= cap else None


def fetch_item(session: Session, collection: Collection, fid: str, crs: str) -> str | None:
    """One feature's JSON by its id (the grid or admin code), or None."""
    params: dict = {"fid": fid}
    sql = (
        f"SELECT {_feature_sql(collection, Query(crs=crs))} FROM {SOURCES[collection.kind]} "
        f"WHERE {_where(collection, Query(), params)} AND g.code = :fid LIMIT 1"
    )
    return session.execute(text(sql), params).scalar()
