"""Geometry helpers of the workbench: metric projection, GeoJSON input, and cutting polygons by lines.

Cuts are made by polygonizing the noded union of the polygon's boundary and the cutting lines, never by separate
``intersection``/``difference`` calls: the pieces then share their new edges bit for bit, so a grid rebuilt from
pieces has no hairline gaps or overlaps along them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geogrid import STORE_SRID
from geogrid.crs import CrsError, local_metric_crs, parse_crs, to_store
from geogrid.planner.errors import BadEdit

POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")


@lru_cache(maxsize=16)
def transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(source), CRS.from_epsg(target), always_xy=True)


def metric_srid(geoms) -> int:
    """EPSG code of the local metric CRS at the centre of ``geoms`` (store CRS)."""
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return int(local_metric_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0).to_epsg())


def to_store_crs(geoms, srid: int):
    """Metric geometries (CRS ``srid``) back in the store CRS."""
    return shapely.transform(geoms, transformer(srid, STORE_SRID).transform, interleaved=False)


def to_metric(geoms, srid: int):
    """Store-CRS geometries (array or one) in the metric CRS ``srid``."""
    return shapely.transform(geoms, transformer(STORE_SRID, srid).transform, interleaved=False)


def parse_geojson(value, field: str, kinds: tuple[str, ...], crs: str | None = None):
    """A GeoJSON geometry (lon/lat in ``crs``: wgs84 default, cgcs2000, gcj02, bd09) as a valid store geometry."""
    import geopandas as gpd

    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise BadEdit(field, f"must be a GeoJSON {' or '.join(kinds)}")
    try:
        geom = shapely.geometry.shape(value)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise BadEdit(field, f"is not valid GeoJSON ({exc})") from None
    if geom.is_empty:
        raise BadEdit(field, "is empty")
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90) or not np.isfinite(geom.bounds).all():
        raise BadEdit(field, "coordinates must be longitude, latitude in degrees")
    try:
        spec = parse_crs(crs)
    except CrsError as exc:
        raise BadEdit("crs", str(exc)) from None
    if spec.crs is not None and spec.crs.is_projected:
        raise BadEdit("crs", "GeoJSON coordinates are longitude/latitude: use wgs84, cgcs2000, gcj02 or bd09")
    geom = to_store(gpd.GeoDataFrame(geometry=[geom]), spec).geometry.iloc[0]
    if kinds == POLYGONAL and not geom.is_valid:
        geom = shapely.make_valid(geom)
        polys = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL]
        geom = shapely.union_all(polys) if polys else shapely.Polygon()
        if geom.is_empty:
            raise BadEdit(field, "has no area")
    return geom


def polygons(geom) -> list:
    """The Polygon parts of ``geom`` (collections and multipolygons flattened)."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon" and not part.is_empty:
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(polygons(part))
    return out


def cut(polygon, lines) -> list:
    """``polygon`` divided by ``lines``: the faces of their noded union that lie inside it (one when nothing cuts)."""
    if not shapely.intersects(lines, polygon):
        return [polygon]
    # the whole lines, not their intersection with the polygon: computed end points miss the boundary by a hair
    # and would be left dangling instead of noded
    noded = shapely.union_all([shapely.boundary(polygon), lines])
    faces = [f for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))) if f.area > 0]
    keep = [f for f in faces if polygon.contains(shapely.point_on_surface(f))]
    return keep or [polygon]
