"""The engine's helpers on their own: doctests of the metric and graph helpers, tier smoothing on a toy grid."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import shapely
from pyproj import CRS

import geogrid.geometry.graph
import geogrid.io
import geogrid.metrics.compactness
import geogrid.metrics.size
import geogrid.partition.groups
from geogrid.config import PartitionConfig, TierSpec
from geogrid.geometry import interior_points
from geogrid.partition.blocks import Blocks, exact_coverage
from geogrid.partition.inputs import Inputs
from geogrid.partition.tiering import coherent_tiers, majority_tiers


@pytest.mark.parametrize(
    "module",
    [geogrid.metrics.compactness, geogrid.metrics.size, geogrid.geometry.graph, geogrid.partition.groups, geogrid.io],
)
def test_doctests(module):
    failed, tried = doctest.testmod(module, raise_on_error=False)
    assert tried > 0 and failed == 0


def test_interior_point_of_a_sliver_is_inside_it():
    sliver = shapely.Polygon([(0, 0), (1000, 0), (1000, 0.4), (0, 0.3)])
    p = interior_points(np.array([sliver]))[0]
    assert shapely.contains_properly(sliver, p)


def _toy(tiers: list[str], rule: list[bool] | None = None, size: float = 200.0):
    """A 5 × 5 lattice of square blocks with the given tiers (row by row, north first), as Blocks + coverage."""
    geoms = np.array(
        [shapely.box(c * size, -r * size, (c + 1) * size, -(r - 1) * size) for r in range(5) for c in range(5)]
    )
    n = len(geoms)
    blocks = Blocks(
        geoms=geoms,
        community=np.full(n, -1),
        tier=np.array(tiers, dtype=object),
        rule_tier=np.array(rule if rule is not None else [True] * n),
        origin=np.zeros(n, dtype=np.int8),
        group=np.zeros(n, dtype=np.int64),
    )
    blocks, cov = exact_coverage(blocks)
    order = np.lexsort((shapely.get_x(shapely.centroid(blocks.geoms)), -shapely.get_y(shapely.centroid(blocks.geoms))))
    cfg = PartitionConfig(tiers={t: TierSpec(3000.0, 0.04e6, 0.12e6) for t in "ABC"}).validate()
    empty = np.empty(0, dtype=object)
    inp = Inputs(CRS.from_epsg(32650), shapely.union_all(geoms), cfg, empty, np.empty(0, dtype=int), empty)
    return blocks, cov, inp, order


def test_mode_filter_removes_a_one_block_arm():
    grid = list("AAAAAAAAAABBBBBAAAAAAAAAA")  # a B street one block wide across an A area...
    grid[10] = grid[14] = "A"  # ...that does not reach the edges: an arm, mostly bordered by A
    blocks, cov, inp, order = _toy(grid)
    out = majority_tiers(blocks, cov, inp)
    assert set(out[order][11:14]) == {"A"}


def test_small_patch_takes_the_tier_around_it_but_planner_zones_stay():
    grid = ["B"] * 25
    grid[12] = "A"  # one A block in a B area: under two grids of A (2 × 0.08 km²)
    blocks, cov, inp, order = _toy(grid)
    assert coherent_tiers(blocks, cov, inp)[order][12] == "B"
    rule = [True] * 25
    rule[12] = False  # the same block drawn by a planner
    blocks, cov, inp, order = _toy(grid, rule)
    assert coherent_tiers(blocks, cov, inp)[order][12] == "A"
