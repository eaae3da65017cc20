"""A small synthetic jurisdiction built in code (no binary fixtures): 1 district, 2 streets, 4 communities, 8 grids.

Coordinates are CGCS2000 Gauss-Krüger CM 114°E (EPSG:4547) around Wuhan (114.3°E, 30.55°N), in whole metres, so
expected areas are exact: each community is 1000 × 1000 m and holds two 500 × 1000 m grids (west and east half).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping

from geogrid.crs import wgs84_to_gcj02

GK = "EPSG:4547"
X0, Y0 = 528000.0, 3381000.0
S = 1000.0

DISTRICT = ("420102", "江岸区")
STREETS = [("420102001", "大智街道", (0, 0, 1, 2)), ("420102002", "一元街道", (1, 0, 2, 2))]
COMMUNITIES = [
    ("420102001001", "车站路社区", "420102001", (0, 0, 1, 1)),
    ("420102001002", "大智路社区", "420102001", (0, 1, 1, 2)),
    ("420102002001", "一元路社区", "420102002", (1, 0, 2, 1)),
    ("420102002002", "黄兴路社区", "420102002", (1, 1, 2, 2)),
]
HALF = ("一", "二")


def cell(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box in units of metres from the origin (X0, Y0)."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def admin_frames() -> dict[str, gpd.GeoDataFrame]:
    """Per level: code, name, parent (None for the district) and geometry, in EPSG:4547."""
    district = gpd.GeoDataFrame(
        {"code": [DISTRICT[0]], "name": [DISTRICT[1]], "parent": [None]},
        geometry=[cell(0, 0, 2 * S, 2 * S)],
        crs=GK,
    )
    streets = gpd.GeoDataFrame(
        {"code": [s[0] for s in STREETS], "name": [s[1] for s in STREETS], "parent": [DISTRICT[0]] * 2},
        geometry=[cell(*(np.array(s[2]) * S)) for s in STREETS],
        crs=GK,
    )
    communities = gpd.GeoDataFrame(
        {
            "code": [c[0] for c in COMMUNITIES],
            "name": [c[1] for c in COMMUNITIES],
            "parent": [c[2] for c in COMMUNITIES],
        },
        geometry=[cell(*(np.array(c[3]) * S)) for c in COMMUNITIES],
        crs=GK,
    )
    return {"district": district, "street": streets, "community": communities}


def grid_code(community: int, half: int) -> str:
    return f"SQ-{community + 1}-{half + 1}"


def clean_grids() -> gpd.GeoDataFrame:
    """Eight grids tiling the district exactly, two per community; tiers A, B, C, A, …"""
    rows = []
    for c, (code, name, _, (cx0, cy0, _, _)) in enumerate(COMMUNITIES):
        for h in range(2):
            x = cx0 * S + h * S / 2
            geom = cell(x, cy0 * S, x + S / 2, cy0 * S + S)
            rows.append((grid_code(c, h), f"{name[:-2]}第{HALF[h]}网格", "ABC"[(2 * c + h) % 3], code, geom))
    code, name, tier, community, geom = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"code": list(code), "name": list(name), "tier": list(tier), "community": list(community)},
        geometry=list(geom),
        crs=GK,
    )


def planted_grids() -> tuple[gpd.GeoDataFrame, dict]:
    """The clean tiling with one gap, one overlap, one community crossing and one grid leaving the district.

    Returns the grids and the planted truth (codes and exact areas in m²).
    """
    g = clean_grids().set_index("code")
    geom = g.geometry.copy()
    gap = cell(450, 200, 500, 300)  # 50 × 100 = 5000 m² cut out of SQ-1-1, on its border with SQ-1-2
    geom["SQ-1-1"] = geom["SQ-1-1"].difference(gap)
    overlap = cell(480, 600, 500, 800)  # SQ-1-2 reaches 20 m into SQ-1-1 over 200 m: 4000 m²
    geom["SQ-1-2"] = geom["SQ-1-2"].union(overlap)
    crossing = cell(1000, 1000, 1100, 1030)  # SQ-3-1 reaches 30 m north into 黄兴路社区 over 100 m: 3000 m²
    geom["SQ-3-1"] = geom["SQ-3-1"].union(crossing)
    geom["SQ-4-1"] = geom["SQ-4-1"].difference(crossing)
    beyond = cell(2000, 1500, 2010, 1600)  # SQ-4-2 leaves the district by 10 × 100 = 1000 m²
    geom["SQ-4-2"] = geom["SQ-4-2"].union(beyond)
    g = g.set_geometry(geom).reset_index()
    truth = {
        "gap": (gap, 5000.0),
        "overlap": (("SQ-1-1", "SQ-1-2"), overlap, 4000.0),
        "crossing": ("SQ-3-1", "420102002001", crossing, 3000.0),
        "beyond": ("SQ-4-2", beyond, 1000.0),
    }
    return g, truth


def to_gcj02(geoms: gpd.GeoSeries) -> np.ndarray:
    """Truth (EPSG:4547) → WGS84/CGCS2000 lon/lat → GCJ-02, vertex by vertex."""

    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms.to_crs(4490).values), shift)


def write_geojson_gcj02(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """A GeoJSON in GCJ-02 that declares no CRS, as web-map platforms deliver it."""
    props = gdf.drop(columns=gdf.geometry.name)
    features = [
        {
            "type": "Feature",
            "properties": {k: (None if v is None else v) for k, v in row.items()},
            "geometry": mapping(g),
        }
        for row, g in zip(props.to_dict("records"), to_gcj02(gdf.geometry), strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def write_shapefile_gbk(gdf: gpd.GeoDataFrame, path: Path, rename: dict[str, str]) -> Path:
    """A Shapefile in EPSG:4547 with a GBK dbf and no .cpg (how many desktop GIS exports arrive)."""
    gdf.rename(columns=rename).to_file(path, driver="ESRI Shapefile", encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, rename: dict[str, str]) -> Path:
    """A GeoPackage in EPSG:4490 (CGCS2000 geographic)."""
    gdf.rename(columns=rename).to_crs(4490).to_file(path, driver="GPKG")
    return path
