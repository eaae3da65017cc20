"""Road centrelines from a carriageway-level network (dual carriageways and roundabouts collapsed, dangles kept).

Why: the same face-based cleaning the partition uses (``geogrid.geometry.faces``), exposed on its own so the
benchmark can compare it with neatnet: block borders on roads are the centrelines (between carriageways where a
road has two), and dangles (cul-de-sacs, stubs) are added back as they are — they bound no block but are roads.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geogrid.crs import metric_crs_for
from geogrid.geometry import build_faces, lines_only, near, rebuild_coverage
from geogrid.roads.classes import DEFAULT_HALF_WIDTHS, MINOR, road_classes

EXTENT_MARGIN_M = 100.0


def clean_centerlines(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Centrelines of ``roads`` (main/secondary/local classes) in the input CRS, with ``road_class`` (1–3).

    Classes come from ``road_class`` or ``highway`` columns (else all local). The extent is the network's convex
    hull plus a margin, so roads on the rim are collapsed too.
    """
    if len(roads) == 0:
        return gpd.GeoDataFrame({"road_class": np.empty(0, dtype=np.int64)}, geometry=[], crs=roads.crs)
    cls = road_classes(roads)
    metric = metric_crs_for(roads) if roads.crs is not None else None
    gm = roads.to_crs(metric) if metric is not None else roads
    lines, idx = lines_only(gm.geometry.to_numpy(), return_index=True)
    c = cls[idx]
    keep = (c >= 1) & (c < MINOR)
    lines, c = lines[keep], c[keep]
    extent = shapely.buffer(shapely.convex_hull(shapely.union_all(lines)), EXTENT_MARGIN_M)
    fs = build_faces(lines, c, extent, half_widths=DEFAULT_HALF_WIDTHS)
    _, _, edges, sides = rebuild_coverage(fs.blocks, fs.community)
    ring = lines_only(shapely.get_parts(shapely.boundary(extent)))
    inner = ~near(shapely.line_interpolate_point(edges, 0.5, normalized=True), ring, 1e-3)
    out = edges[inner & (sides[:, 0] >= 0) & (sides[:, 1] >= 0)]
    dangles = fs.dangles
    if len(fs.artefact_area) and len(dangles):  # stubs inside collapsed carriageway areas are not roads of their own
        art = shapely.STRtree(fs.artefact_area)
        di, _ = art.query(dangles, predicate="within")
        dangles = np.delete(dangles, np.unique(di))
    merged = lines_only(shapely.get_parts(shapely.line_merge(shapely.union_all(np.concatenate([out, dangles])))))
    # class of each centreline: the best class among the carriageways within 25 m of its middle
    src = shapely.STRtree(fs.road_lines)
    mi, rj = src.query(shapely.line_interpolate_point(merged, 0.5, normalized=True), predicate="dwithin", distance=25.0)
    best = np.full(len(merged), 3, dtype=np.int64)
    np.minimum.at(best, mi, fs.road_class[rj])
    gdf = gpd.GeoDataFrame({"road_class": best}, geometry=merged, crs=metric)
    return gdf.to_crs(roads.crs) if roads.crs is not None else gdf
