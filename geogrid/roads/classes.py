"""Road classes: OSM ``highway=*`` values (or a user's class field) → the three border grades plus minor ways.

Why: grid borders follow roads graded in three levels (主干道 / 次干道 / 背街小巷); footways, tracks and service
ways do not bound grids but are where an oversized block (a park, a campus) is split first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAIN, SECONDARY, LOCAL, MINOR = 1, 2, 3, 4
NOT_A_ROAD = 0
CLASS_NAMES = {MAIN: "main", SECONDARY: "secondary", LOCAL: "local", MINOR: "minor"}

HIGHWAY_CLASS: dict[str, int] = {
    **dict.fromkeys(["motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"], MAIN),
    **dict.fromkeys(["secondary", "secondary_link", "tertiary", "tertiary_link"], SECONDARY),
    **dict.fromkeys(["residential", "unclassified", "living_street", "pedestrian", "road", "busway"], LOCAL),
    **dict.fromkeys(["service", "footway", "path", "track", "cycleway", "steps", "bridleway"], MINOR),
    # Chinese road grades (CJJ 37 urban road classes) as they appear in planners' shapefiles
    **dict.fromkeys(["快速路", "高速公路", "主干路", "主干道", "一级公路"], MAIN),
    **dict.fromkeys(["次干路", "次干道", "二级公路", "三级公路"], SECONDARY),
    **dict.fromkeys(["支路", "街巷", "小巷", "背街小巷", "四级公路", "村道", "乡道"], LOCAL),
    **dict.fromkeys(["步道", "人行道", "小路", "机耕路"], MINOR),
    **{name: code for code, name in CLASS_NAMES.items()},
    **{str(code): code for code in CLASS_NAMES},
}


DEFAULT_HALF_WIDTHS = {MAIN: 20.0, SECONDARY: 12.0, LOCAL: 7.0}
"""Half-width (m) per road class for the thin-face test: a face narrower than twice this is a road artefact.
Main roads' carriageways lie up to ~40 m apart, local roads' up to ~14 m."""
BORDER_CLASSES = (MAIN, SECONDARY, LOCAL)
"""Classes whose centrelines bound grids (minor ways split oversize blocks only)."""


def classify(values: pd.Series, strict: bool = False) -> np.ndarray:
    """Class per value (1 main, 2 secondary, 3 local, 4 minor, 0 not a road).

    OSM lists (``['primary', 'secondary']``) take their first class. With ``strict`` (a user's class field)
    an unknown value raises ``ValueError`` naming it; otherwise it means "not a road" (``construction``…).
    """
    text = values.astype("string").fillna("").str.strip().str.lower()
    text = text.str.replace(r"^\[?'?([^',\]]+).*$", r"\1", regex=True)
    text = text.str.replace(r"\.0$", "", regex=True)
    mapped = text.map(HIGHWAY_CLASS)
    if strict:
        unknown = sorted(set(values[mapped.isna() & (text != "")].astype(str)))
        if unknown:
            known = "main/secondary/local/minor, 1-4, OSM highway values or 主干路/次干路/支路"
            raise ValueError(f"unknown road class value(s) {', '.join(map(repr, unknown[:5]))} (expected {known})")
    return mapped.fillna(NOT_A_ROAD).astype(np.int64).to_numpy()


def road_classes(roads: pd.DataFrame) -> np.ndarray:
    """Class per row: the ``road_class`` column when present, else ``classify(highway)``, else every row local."""
    if "road_class" in roads.columns:
        return pd.to_numeric(roads["road_class"], errors="coerce").fillna(NOT_A_ROAD).astype(np.int64).to_numpy()
    if "highway" in roads.columns:
        return classify(roads["highway"])
    return np.full(len(roads), LOCAL, dtype=np.int64)
