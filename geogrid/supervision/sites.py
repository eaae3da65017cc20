"""The site layer (点位): markets, hospitals, parks, squares … imported from any vector file or GeoJSON.

Files go through ``geogrid.io.read_vector`` (GBK, GCJ-02/BD-09, projected CRSs, all handled there); point or line
sites become polygons by a buffer of ``radius_m`` metres in the local metric CRS; polygons are repaired
(``make_valid``). Sites are upserted by code, so importing the same file again updates rather than duplicates.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.crs import metric_crs_for, to_store
from geogrid.io import InputError, guess_field, read_vector, require_fields
from geogrid.supervision.models import DutySite

CODE_FIELDS = ("code", "编码", "id", "site_code")
NAME_FIELDS = ("name", "名称", "site_name")
KIND_FIELDS = ("kind", "type", "类型", "category")
DEFAULT_RADIUS_M = 30.0


def _areas(gdf: gpd.GeoDataFrame, radius_m: float) -> gpd.GeoSeries:
    """Every geometry as a valid (multi)polygon in EPSG:4490; points and lines buffered by ``radius_m``."""
    metric = metric_crs_for(gdf)
    projected = gdf.geometry.to_crs(metric)
    areal = projected.geom_type.isin(["Polygon", "MultiPolygon"])
    grown = projected.where(areal, projected.buffer(radius_m))
    return gpd.GeoSeries(shapely.make_valid(grown.values), crs=metric).to_crs(gdf.crs)


def _multi(geom) -> MultiPolygon:
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return MultiPolygon([p for g in polys for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])])


def store_sites(
    session: Session, gdf: gpd.GeoDataFrame, fields: tuple[str, str, str], source: str, radius_m: float
) -> int:
    """Upsert the sites of a frame already in EPSG:4490; ``fields`` = (code, name, kind) columns."""
    code_f, name_f, kind_f = fields
    x0, y0, x1, y1 = gdf.total_bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError(f"{source}: coordinates outside longitude/latitude ranges; is the CRS right (--crs)?")
    geoms = _areas(gdf, radius_m)
    count = 0
    for i, (code, name, kind) in enumerate(zip(gdf[code_f], gdf[name_f], gdf[kind_f], strict=True)):
        values = [str(v).strip() if v is not None else "" for v in (code, name, kind)]
        if not all(values):
            raise InputError(f"{source} feature {i}: code, name and kind are all required")
        if len(values[2]) > 32 or len(values[0]) > 64:
            raise InputError(f"{source} feature {i}: code over 64 or kind over 32 characters")
        shape = _multi(geoms.iloc[i])
        if shape.is_empty:
            raise InputError(f"{source} feature {i}: no area after repair")
        site = session.scalar(select(DutySite).where(DutySite.code == values[0])) or DutySite(code=values[0])
        site.name, site.kind, site.source = values[1], values[2].lower(), source
        site.geom = f"SRID=4490;{shape.wkt}"
        session.add(site)
        count += 1
    session.flush()
    return count


def _fields(gdf: gpd.GeoDataFrame, source: str, given: tuple[str | None, str | None, str | None]) -> tuple[str, ...]:
    out = []
    for name, guesses, what in zip(
        given, (CODE_FIELDS, NAME_FIELDS, KIND_FIELDS), ("code", "name", "kind"), strict=True
    ):
        field = name or guess_field(gdf, guesses)
        if field is None:
            raise InputError(f"{source}: no {what} field (tried {', '.join(guesses)}); name it with --{what}-field")
        require_fields(gdf, source, field)
        out.append(field)
    return tuple(out)


def import_sites_file(
    session: Session,
    path: str | Path,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    fields: tuple[str | None, str | None, str | None] = (None, None, None),
    radius_m: float = DEFAULT_RADIUS_M,
) -> int:
    gdf = read_vector(path, crs=crs, encoding=encoding)
    return store_sites(session, gdf, _fields(gdf, str(path), fields), Path(path).name, radius_m)


def import_sites_geojson(
    session: Session, collection: dict, crs: str | None, radius_m: float = DEFAULT_RADIUS_M
) -> int:
    """Sites from a GeoJSON FeatureCollection (``properties``: code, name, kind) in ``crs`` (default WGS84)."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InputError("body: expected a GeoJSON FeatureCollection")
    try:
        gdf = gpd.GeoDataFrame.from_features(collection.get("features") or [])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"body: not valid GeoJSON features ({exc})") from None
    if gdf.empty:
        raise InputError("body: no features")
    gdf = to_store(gdf.set_crs(4326, allow_override=True), crs)
    return store_sites(session, gdf, _fields(gdf, "body", (None, None, None)), "api", radius_m)
