"""Does a layer line up with the roads better after a GCJ-02 or BD-09 shift? Then its CRS is probably wrong.

Why: Chinese boundary files from web maps are GCJ-02 (sometimes BD-09) and declare no CRS, so they are read as
WGS84 and sit 300–800 m (BD-09: about a kilometre) off OSM roads. The partition then still "covers 100 %" — of the
wrong land. Jurisdiction borders mostly run along roads, so the share of the outline within ``NEAR_M`` of a road is
measured as given and after each offset conversion; a clear gain means the declared CRS is wrong. Only main roads
count (secondary ones too where there are no main roads): jurisdictions follow arterials, and a dense street grid
would put any shifted outline near some street.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from geogrid.crs import (
    _to_store_transformer,
    bd09_to_wgs84,
    from_store_transformer,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geogrid.metrics.borders import segment_pieces
from geogrid.roads.classes import MAIN, SECONDARY

NEAR_M = 30.0
"""An outline point within this distance of a road line lies on the road."""
MIN_GAIN = 0.15
"""The share on roads must rise by at least this much (15 points) ..."""
MIN_RATIO = 1.5
"""... and by at least this factor, for the shift to count as the better fit."""
SAMPLES = 2000

SHIFTS = {
    "gcj02": (gcj02_to_wgs84, "the layer is GCJ-02 (web maps: Amap, Tencent)"),
    "bd09": (bd09_to_wgs84, "the layer is BD-09 (Baidu)"),
    "roads-gcj02": (wgs84_to_gcj02, "the roads are GCJ-02 and the layer is WGS84"),
    "roads-bd09": (wgs84_to_bd09, "the roads are BD-09 and the layer is WGS84"),
}


def _on_roads(points: np.ndarray, tree: shapely.STRtree) -> float:
    hit, _ = tree.query(shapely.points(points), predicate="dwithin", distance=NEAR_M)
    return len(np.unique(hit)) / max(len(points), 1)


def check_offset(outline, road_lines: np.ndarray, road_class: np.ndarray, metric: CRS) -> dict | None:
    """The best shift when it makes ``outline`` (metric) follow the main roads clearly better, else None.

    Returns {"shift", "meaning", "offset_m", "on_roads_as_given", "on_roads_shifted"}.
    """
    road_lines = road_lines[road_class == MAIN] if (road_class == MAIN).any() else road_lines[road_class <= SECONDARY]
    if len(road_lines) == 0:
        return None
    length = float(shapely.length(outline))
    mids, _, _ = segment_pieces(np.asarray(shapely.get_parts(outline), dtype=object), max(length / SAMPLES, 5.0))
    if len(mids) == 0:
        return None
    tree = shapely.STRtree(road_lines)
    as_given = _on_roads(mids, tree)
    to_ll = _to_store_transformer(metric.to_wkt())
    to_m = from_store_transformer(metric.to_wkt())
    lon, lat = to_ll.transform(mids[:, 0], mids[:, 1])
    found = []
    for name, (shift, meaning) in SHIFTS.items():  # each function moves the outline onto where the roads would be
        x, y = to_m.transform(*shift(lon, lat))
        moved = np.column_stack([x, y])
        offset = float(np.median(np.hypot(*(moved - mids).T)))
        found.append(
            {
                "shift": name,
                "meaning": meaning,
                "offset_m": round(offset, 1),
                "on_roads_shifted": _on_roads(moved, tree),
            }
        )
    # on a regular street grid a longer shift can land on other roads just as well: the shortest near-best one wins
    top = max(f["on_roads_shifted"] for f in found)
    best = min((f for f in found if f["on_roads_shifted"] >= top - 0.05), key=lambda f: f["offset_m"])
    if best["on_roads_shifted"] - as_given < MIN_GAIN or best["on_roads_shifted"] < MIN_RATIO * as_given:
        return None
    best["on_roads_as_given"] = round(as_given, 3)
    best["on_roads_shifted"] = round(best["on_roads_shifted"], 3)
    return best
