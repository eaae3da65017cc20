"""Metric formulas, grid code ordering and the splitting of oversize blocks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geogrid.config import PartitionConfig, TierSpec
from geogrid.metrics.borders import road_share, share_within
from geogrid.metrics.compactness import area_cv, max_mean_ratio, polsby_popper, reock
from geogrid.metrics.size import diameter_m
from geogrid.partition import partition
from geogrid.partition.codes import grid_codes


def test_compactness_formulas():
    circle = shapely.Point(0, 0).buffer(100, quad_segs=64)
    square = shapely.box(0, 0, 100, 100)
    strip = shapely.box(0, 0, 1000, 10)
    pp = polsby_popper(np.array([circle, square, strip]))
    assert pp[0] == pytest.approx(1.0, abs=1e-3)
    assert pp[1] == pytest.approx(np.pi / 4)
    assert pp[2] < 0.05
    rk = reock(np.array([circle, square]))
    assert rk[0] == pytest.approx(1.0, abs=1e-3)
    assert rk[1] == pytest.approx(2 / np.pi, rel=1e-6)
    assert area_cv(np.array([1.0, 1.0, 1.0])) == 0.0
    assert area_cv(np.array([1.0, 3.0])) == pytest.approx(0.5)
    assert max_mean_ratio(np.array([1.0, 3.0])) == pytest.approx(1.5)


def test_border_shares():
    square = shapely.box(0, 0, 100, 100)
    roads = np.array([shapely.LineString([(-5, -8), (105, -8)]), shapely.LineString([(-8, -5), (-8, 105)])])
    # two full sides, plus 7 m of each far side within 15 m of the road ends: (200 + 14) / 400
    assert road_share(np.array([square]), roads, 15.0)[0] == pytest.approx(0.535, abs=0.02)
    assert road_share(np.array([square]), roads, 5.0)[0] == pytest.approx(0.0, abs=0.02)
    assert share_within(np.array([shapely.LineString([(0, 0), (0, 100)])]), roads, 15.0) == pytest.approx(1.0)


def test_codes_west_to_east_then_north_to_south():
    cells = np.array([shapely.box(x, y, x + 100, y + 100) for y in (100, 0) for x in (0, 100, 200)])
    shuffled = cells[[4, 0, 5, 2, 1, 3]]
    codes = grid_codes(shuffled, np.array(["110101001001"] * 6, dtype=object))
    by_code = dict(zip(codes, shuffled, strict=True))
    order = [by_code[f"110101001001{i:03d}"] for i in range(1, 7)]
    assert [shapely.equals(a, b) for a, b in zip(order, cells, strict=True)] == [True] * 6


def test_oversize_block_split_along_paths_first():
    x0, y0 = 500_000.0, 3_400_000.0
    ring = [(x0, y0), (x0 + 4000, y0), (x0 + 4000, y0 + 1000), (x0, y0 + 1000), (x0, y0)]
    lines = [shapely.LineString(ring)]
    hw = ["primary"]
    for x in (1000, 2000, 3000):
        lines.append(shapely.LineString([(x0 + x, y0), (x0 + x, y0 + 1000)]))
        hw.append("footway")
    roads = gpd.GeoDataFrame({"highway": hw}, geometry=lines, crs=32650)
    box = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + 4000, y0 + 1000)], crs=32650)
    zones = box.assign(tier="A")
    cfg = PartitionConfig(tiers={"A": TierSpec(1500.0, 0.8e6, 1.2e6)})  # 1 km² grids: each path piece is one
    res = partition(roads, box, tier_zones=zones, config=cfg)
    blocks = res.blocks.to_crs(32650)
    assert (blocks["origin"] == "path_split").sum() == 4
    assert len(blocks) == 4
    assert (diameter_m(res.grids.geometry) <= 1500).all()
    # without the paths the same block needs straight cuts, still within the cap
    res2 = partition(roads[roads["highway"] == "primary"], box, tier_zones=zones, config=cfg)
    assert (res2.blocks["origin"] == "straight_cut").all()
    assert (diameter_m(res2.grids.geometry) <= 1500).all()
    assert res2.report["internal_border"]["straight_cut"] > 0.9
