"""Workload weights for balancing grids: points, building polygons or a population raster → weighted points.

Why points: every source reduces to "this much work here". Addresses, households and past cases are points (1 each,
or a count field); a building is its floor area — footprint × floors when a floors field exists — at a point inside
it; a population raster is its cells' values, each spread over a 3 × 3 lattice of sub-points so that blocks smaller
than a cell still receive their share. The partition then sums the points inside each block (``block_weights``).
Returns frames in EPSG:4490 with one numeric column ``weight``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.crs import CrsError, CrsSpec, metric_crs_for, parse_crs, to_store
from geogrid.io import InputError, guess_field, parse_source, read_raw, source_name

FLOOR_FIELDS = ("floors", "building:levels", "building_levels", "levels", "num_floors", "层数", "楼层数", "楼层", "cs")
"""Field names taken as a building's number of floors when none is named."""
RASTER_SUFFIXES = {".tif", ".tiff", ".geotiff", ".img", ".vrt", ".asc"}
RASTER_SUBDIVISION = 3
"""Each raster cell becomes this many × this many points sharing its value."""


def _numeric(values: pd.Series, name: str, field: str) -> np.ndarray:
    """A numeric column: non-numbers are an error naming the first bad row; negatives are an error too."""
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        row = values.index[bad.to_numpy()][0]
        raise InputError(f"{name}: field {field!r} of feature {row} is {values[row]!r}, not a number")
    if (num < 0).any():
        row = values.index[(num < 0).to_numpy()][0]
        raise InputError(f"{name}: field {field!r} of feature {row} is negative ({num[row]})")
    return num.fillna(0.0).to_numpy(dtype=float)


def weights_from_frame(
    gdf: gpd.GeoDataFrame,
    *,
    field: str | None = None,
    floors_field: str | None = None,
    floor_area_per_unit: float = 1.0,
    name: str = "weights",
) -> gpd.GeoDataFrame:
    """Weighted points from points (``field`` or 1 each) or polygons (``field``, else area × floors, else area).

    Building floor area is divided by ``floor_area_per_unit`` (100 m² ≈ one household).
    """
    types = set(gdf.geom_type.dropna())
    for f in (field, floors_field):
        if f is not None and f not in gdf.columns:
            have = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name) or "(none)"
            raise InputError(f"{name}: no field {f!r}; the file has: {have}")
    if types <= {"Point", "MultiPoint"}:
        pts = gdf.explode(index_parts=False)
        weight = _numeric(pts[field], name, field) if field else np.ones(len(pts))
        return gpd.GeoDataFrame({"weight": weight}, geometry=pts.geometry.to_numpy(), crs=gdf.crs)
    if types <= {"Polygon", "MultiPolygon"}:
        metric = metric_crs_for(gdf)
        in_metres = gdf.to_crs(metric)
        area = in_metres.area.to_numpy()
        if field:
            weight = _numeric(gdf[field], name, field)
        else:
            floors_field = floors_field or guess_field(gdf, FLOOR_FIELDS)
            floors = _numeric(gdf[floors_field], name, floors_field) if floors_field else np.ones(len(gdf))
            weight = area * np.where(floors > 0, floors, 1.0) / floor_area_per_unit  # no floor count: one floor
        # the point inside each building, found in metres (in degrees it lands elsewhere in a large L-shaped one)
        pts = gpd.GeoSeries(shapely.point_on_surface(in_metres.geometry.to_numpy()), crs=metric).to_crs(gdf.crs)
        return gpd.GeoDataFrame({"weight": weight}, geometry=pts.to_numpy(), crs=gdf.crs)
    got = ", ".join(sorted(map(str, types))) or "nothing"
    raise InputError(f"{name}: weights must be points or polygons (or a raster), got {got}")


def weights_from_raster(path: Path, crs: CrsSpec | None = None) -> gpd.GeoDataFrame:
    """Weighted points from band 1 of a raster (population per cell): positive, non-nodata cells only."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True)
            transform, raster_crs = src.transform, src.crs
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{path}: not a readable raster ({exc})") from exc
    if raster_crs is None and crs is None:
        raise InputError(f"{path}: the raster declares no CRS; pass --weights-crs")
    values = np.ma.filled(band.astype(float), 0.0)
    rows, cols = np.nonzero(values > 0)
    # sub-cell offsets: the centres of an n × n lattice inside each cell
    n = RASTER_SUBDIVISION
    sub = (np.arange(n) + 0.5) / n
    dr, dc = np.meshgrid(sub, sub, indexing="ij")
    r = (rows[:, None] + dr.ravel()[None, :]).ravel()
    c = (cols[:, None] + dc.ravel()[None, :]).ravel()
    x, y = transform * (c, r)
    weight = np.repeat(values[rows, cols] / (n * n), n * n)
    frame = gpd.GeoDataFrame({"weight": weight}, geometry=shapely.points(x, y), crs=raster_crs)
    return to_store(frame, crs)


def read_weights(
    source: str | Path,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    field: str | None = None,
    floors_field: str | None = None,
    floor_area_per_unit: float = 1.0,
) -> gpd.GeoDataFrame:
    """Weighted points (EPSG:4490) from a vector file (``FILE[:LAYER]``) or a raster; ``InputError`` on bad input."""
    path, layer = parse_source(source)
    try:
        spec = parse_crs(crs) if crs is not None else None
    except CrsError as exc:
        raise InputError(f"{path}: {exc}") from exc
    if path.suffix.lower() in RASTER_SUFFIXES:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if field or floors_field:
            raise InputError(f"{path}: a raster has no fields; drop --weight-field/--floors-field")
        out = weights_from_raster(path, spec)
        name = str(path)
    else:
        gdf, name = read_raw(source, encoding=encoding)
        out = weights_from_frame(
            to_store(gdf, spec),
            field=field,
            floors_field=floors_field,
            floor_area_per_unit=floor_area_per_unit,
            name=name,
        )
    if len(out) == 0 or out["weight"].sum() <= 0:
        raise InputError(f"{name or source_name(path, layer)}: no positive weight anywhere")
    return out
