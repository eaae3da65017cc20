"""Evaluate any plan (geogrid's or a baseline's) with the same code: the issue's guarantees and quality targets.

The formulas live in ``geogrid.metrics`` (area, diameter, Polsby-Popper, Reock, CV, max/mean, border share); this
module only applies them to a plan and to the inputs (boundary, communities, reference centerlines).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geogrid.metrics.borders import share_within
from geogrid.metrics.compactness import area_cv, max_mean_ratio, polsby_popper, reock
from geogrid.metrics.size import diameter_m

DEFAULT_LIMITS = {"A": 1500.0, "B": 3000.0, "C": 5000.0}
CROSS_TOL = 0.01
"""A grid crosses a community border when > 1 % of its area (and > 100 m²) lies outside its main community."""


def _overlap_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i in a, j in b) with a positive intersection area, and that area."""
    i, j = shapely.STRtree(b).query(a, predicate="intersects")
    area = shapely.area(shapely.intersection(a[i], b[j]))
    keep = area > 0
    return i[keep], j[keep], area[keep]


def tiers_by_overlap(geoms: np.ndarray, ref_geoms: np.ndarray, ref_tiers: np.ndarray, default: str = "A") -> np.ndarray:
    """Tier of each polygon = tier of the reference polygon it overlaps most (baselines know no tiers)."""
    out = np.full(len(geoms), default, dtype=object)
    if len(ref_geoms) == 0:
        return out
    i, j, area = _overlap_pairs(geoms, ref_geoms)
    order = np.lexsort((-area, i))
    first = np.unique(i[order], return_index=True)[1]
    out[i[order][first]] = np.asarray(ref_tiers, dtype=object)[j[order][first]]
    return out


def community_crossing(geoms: np.ndarray, communities: np.ndarray) -> np.ndarray:
    """Per grid: True when it spills out of its main community by more than ``CROSS_TOL`` of its area."""
    i, _, area = _overlap_pairs(geoms, communities)
    main = np.zeros(len(geoms))
    np.maximum.at(main, i, area)
    outside = shapely.area(geoms) - main
    return outside > np.maximum(CROSS_TOL * shapely.area(geoms), 100.0)


def internal_borders(geoms: np.ndarray, boundary) -> shapely.Geometry:
    """Borders between grids: all grid outlines, noded, minus the jurisdiction's own outline."""
    lines = shapely.union_all(shapely.boundary(geoms))
    return shapely.difference(lines, shapely.buffer(shapely.boundary(boundary), 1.0))


def evaluate(
    grids: gpd.GeoDataFrame,
    boundary,
    *,
    centerlines: np.ndarray,
    communities: np.ndarray | None = None,
    limits: dict[str, float] | None = None,
) -> dict:
    """The side-by-side table row of one plan (metric CRS; ``grids`` needs a ``tier`` column)."""
    limits = limits or DEFAULT_LIMITS
    geoms = grids.geometry.to_numpy()
    tiers = grids["tier"].astype(str).to_numpy()
    area = shapely.area(geoms)
    union = shapely.union_all(geoms)
    b_area = shapely.area(boundary)
    diam = diameter_m(gpd.GeoSeries(geoms, crs=grids.crs))
    limit = np.array([limits.get(t, np.inf) for t in tiers])
    pp, rk = polsby_popper(geoms), reock(geoms)
    per_tier = {}
    for t in sorted(set(tiers)):
        sel = tiers == t
        per_tier[t] = {
            "n": int(sel.sum()),
            "mean_km2": round(float(area[sel].mean()) / 1e6, 3),
            "cv": round(area_cv(area[sel]), 3),
            "max_mean": round(max_mean_ratio(area[sel]), 3),
        }
    borders = shapely.get_parts(internal_borders(geoms, boundary))
    row = {
        "grids": int(len(geoms)),
        "multipart_grids": int((shapely.get_num_geometries(geoms) > 1).sum()),
        "tiers": per_tier,
        "pp_mean": round(float(pp.mean()), 3),
        "pp_min": round(float(pp.min()), 3),
        "reock_mean": round(float(rk.mean()), 3),
        "coverage_pct": round(100 * shapely.area(shapely.intersection(union, boundary)) / b_area, 3),
        "outside_pct": round(100 * shapely.area(shapely.difference(union, boundary)) / b_area, 3),
        "overlap_pct": round(100 * max(0.0, float(area.sum()) - shapely.area(union)) / b_area, 3),
        "diameter_violations": int((diam > limit + 1e-6).sum()),
        "diameter_max_m": round(float(diam.max()), 1),
        "border_on_centerline_pct": round(100 * share_within(borders, centerlines, 15.0), 2),
    }
    if communities is not None and len(communities):
        crossing = community_crossing(geoms, communities)
        row["crossing_community_pct"] = round(100 * float(crossing.mean()), 2)
        row["crossing_community_n"] = int(crossing.sum())
    else:
        row["crossing_community_pct"] = None
    return row
