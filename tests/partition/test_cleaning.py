"""Centreline cleaning: dual carriageways and roundabouts collapse, cul-de-sacs make no borders."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geogrid.config import PartitionConfig
from geogrid.partition import partition
from geogrid.roads import clean_centerlines

CRS = 32650  # UTM 50N: metric input, as the Wuhan network is


def _roads(lines: list, highway: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"highway": highway}, geometry=[shapely.LineString(c) for c in lines], crs=CRS)


def _dual_network(x0=500_000.0, y0=3_400_000.0) -> gpd.GeoDataFrame:
    """A 600 m square of local streets with a primary dual carriageway (20 m apart) down the middle."""
    lines, hw = [], []
    for y in (0, 300, 600):
        lines.append([(x0, y0 + y), (x0 + 600, y0 + y)])
        hw.append("residential")
    for x in (0, 600):
        lines.append([(x0 + x, y0), (x0 + x, y0 + 600)])
        hw.append("residential")
    for x in (290, 310):
        lines.append([(x0 + x, y0 - 50), (x0 + x, y0 + 650)])
        hw.append("primary")
    return _roads(lines, hw)


def test_dual_carriageway_collapses_to_its_middle():
    roads = _dual_network()
    cl = clean_centerlines(roads)
    pts = shapely.get_coordinates(shapely.segmentize(cl.geometry.to_numpy(), 5.0))
    x, y = pts[:, 0] - 500_000.0, pts[:, 1] - 3_400_000.0
    away = (np.abs(y - 0) > 25) & (np.abs(y - 300) > 25) & (np.abs(y - 600) > 25) & (y > 0) & (y < 600)
    off = np.min(np.abs(x[away, None] - np.array([0.0, 300.0, 600.0])[None, :]), axis=1)
    assert off.max() <= 2.0, "vertical centrelines lie on the streets or midway between the carriageways"
    assert (np.abs(x[away] - 300) <= 2.0).sum() > 50  # the middle line exists along the whole road
    assert set(cl["road_class"]) <= {1, 2, 3}
    assert cl.crs.to_epsg() == CRS


def test_dual_carriageway_makes_no_sliver_blocks():
    roads = _dual_network()
    box = shapely.box(500_000.0, 3_400_000.0, 500_600.0, 3_400_600.0)
    res = partition(roads, gpd.GeoDataFrame(geometry=[box], crs=CRS))
    blocks = res.blocks.to_crs(CRS)
    assert len(blocks) == 4  # 2 × 2 road-bounded blocks, the median strip shared between them
    xs = shapely.get_coordinates(shapely.centroid(blocks.geometry.to_numpy()))[:, 0] - 500_000.0
    widths = blocks.bounds["maxx"] - blocks.bounds["minx"]
    assert np.allclose(widths, 300.0, atol=1.0)
    assert set(np.round(xs / 150)) == {1, 3}


def test_roundabout_island_and_cul_de_sac_make_no_blocks():
    x0, y0 = 500_000.0, 3_400_000.0
    c = (x0 + 300, y0 + 300)
    ring = shapely.Point(c).buffer(18, quad_segs=8).exterior
    lines = [list(ring.coords)]
    hw = ["residential"]
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        lines.append([(c[0] + 18 * dx, c[1] + 18 * dy), (c[0] + 300 * dx, c[1] + 300 * dy)])
        hw.append("residential")
    sq = [(x0, y0), (x0 + 600, y0), (x0 + 600, y0 + 600), (x0, y0 + 600), (x0, y0)]
    lines.append(sq)
    hw.append("residential")
    # a cul-de-sac with a turning loop inside the south-west block
    lines.append([(x0, y0 + 150), (x0 + 120, y0 + 150)])
    bulb = shapely.Point(x0 + 132, y0 + 150).buffer(12, quad_segs=6).exterior
    lines.append(list(bulb.coords))
    hw += ["residential", "residential"]
    roads = _roads(lines, hw)
    box = shapely.box(x0, y0, x0 + 600, y0 + 600)
    res = partition(roads, gpd.GeoDataFrame(geometry=[box], crs=CRS), config=PartitionConfig())
    blocks = res.blocks.to_crs(CRS)
    assert len(blocks) == 4
    assert blocks.area.min() > 80_000  # no island, no bulb: four quarter blocks of ~90,000 m²
    cl = clean_centerlines(roads)
    d = shapely.distance(shapely.Point(c), shapely.union_all(cl.geometry.to_numpy()))
    assert d <= 2.0, "the roads meet at the roundabout's centre"
