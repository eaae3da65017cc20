"""merge_grids: a sliver grid folds into the neighbour it borders most, within the cap and its community — or the
plan is refused; it is never emitted."""

import numpy as np
import pytest
import shapely
from pyproj import CRS

from geogrid.config import PartitionConfig, TierSpec
from geogrid.partition.aggregate import Plan
from geogrid.partition.blocks import Blocks, exact_coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.inputs import Inputs
from geogrid.partition.merge import merge_grids


def _run(cap: float, comm: list[int]):
    squares = [shapely.box(x, 0, x + 500, 500) for x in (0, 500, 1000, 1500)]
    sliver = shapely.box(0, -20, 1000, 0)  # under squares 0 and 1 only
    geoms = np.array([*squares, sliver], dtype=object)
    n = len(geoms)
    blocks = Blocks(
        geoms=geoms,
        community=np.array(comm),
        tier=np.array(["A"] * n, dtype=object),
        rule_tier=np.ones(n, dtype=bool),
        origin=np.zeros(n, dtype=np.int8),
        group=np.zeros(n, dtype=np.int64),
    )
    blocks, cov = exact_coverage(blocks)
    cfg = PartitionConfig(tiers={"A": TierSpec(cap, 0.4e6, 0.6e6)}).validate()
    empty = np.empty(0, dtype=object)
    inp = Inputs(CRS.from_epsg(32650), shapely.union_all(geoms), cfg, empty, np.empty(0, dtype=int), empty)
    x = shapely.get_coordinates(shapely.centroid(blocks.geoms))[:, 0]
    grid_of = np.where(shapely.area(blocks.geoms) < 1e5, 2, np.where(x < 1000, 0, 1))  # squares 0+1, 2+3, sliver
    plan = Plan(blocks, grid_of, shapely.area(blocks.geoms) / 0.5e6, shapely.area(blocks.geoms) / 0.5e6)
    return plan, merge_grids(plan, cov, inp)


def test_sliver_joins_the_grid_it_borders():
    plan, out = _run(3000.0, [0, 0, 0, 0, 0])
    sliver = int(np.argmin(shapely.area(plan.blocks.geoms)))
    west = int(np.argmin(shapely.get_coordinates(shapely.centroid(plan.blocks.geoms))[:, 0]))
    assert out.n_grids == 2
    assert out.grid_of[sliver] == out.grid_of[west]


def test_sliver_that_cannot_join_is_refused_not_emitted():
    with pytest.raises(PartitionError, match="junk") as info:
        _run(1000.0, [0, 0, 0, 0, 0])  # the union would break the 1 km cap
    assert "near" in str(info.value)  # names the place


def test_sliver_never_crosses_a_community():
    with pytest.raises(PartitionError, match="junk"):
        _run(3000.0, [0, 0, 0, 0, 1])
