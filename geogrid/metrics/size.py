"""Size metrics in metres, computed in the local metric CRS of the geometries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geogrid.crs import metric_crs_for


def to_metric(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """``geoms`` in a local conformal metric CRS (Gauss-Krüger in China, UTM elsewhere)."""
    if geoms.crs is not None and geoms.crs.is_projected:
        return geoms
    return geoms.to_crs(metric_crs_for(gpd.GeoDataFrame(geometry=geoms)))


def area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Planar area in m² in the local metric CRS (scale error < 0.1 % within a 3° zone)."""
    return to_metric(geoms).area.to_numpy()


def diameters(geoms: np.ndarray) -> np.ndarray:
    """Patrol diameter of each geometry already in metres: the largest distance between two of its points.

    .. math:: D = \\max_{p, q \\in \\text{hull}} \\lVert p - q \\rVert

    The farthest pair of a polygon lies on its convex hull, and hulls of blocks and grids have tens of vertices, so
    the pairwise matrix per geometry is small; the loop is over geometries only.

    >>> diameters(np.array([shapely.box(0, 0, 30, 40)])).tolist()
    [50.0]
    """
    hulls = shapely.convex_hull(np.asarray(geoms, dtype=object))
    coords, index = shapely.get_coordinates(hulls, return_index=True)
    out = np.zeros(len(hulls))
    if len(coords) == 0:
        return out
    starts = np.searchsorted(index, np.arange(len(hulls)))
    ends = np.searchsorted(index, np.arange(len(hulls)), side="right")
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        pts = coords[s:e]
        if len(pts) > 1:
            d = pts[:, None, :] - pts[None, :, :]
            out[i] = float(np.sqrt((d**2).sum(-1)).max())
    return out


def diameter_m(geoms: gpd.GeoSeries) -> np.ndarray:
    """Patrol diameter in metres of each geometry of a GeoSeries in any CRS (see :func:`diameters`)."""
    return diameters(np.asarray(to_metric(geoms).values))
