"""split_blocks' passes on their own: equal pieces for blocks too big for one grid, units never cut."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from geogrid.config import PartitionConfig, TierSpec
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Blocks
from geogrid.partition.groups import Groups
from geogrid.partition.inputs import Inputs
from geogrid.partition.sizes import Sizer
from geogrid.partition.split import _split_over_cap, _split_to_unit, _Splitter

X0, Y0 = 500_000.0, 3_400_000.0


def _inputs(geoms, cap=3000.0, units=()) -> Inputs:
    cfg = PartitionConfig(tiers={"B": TierSpec(cap, 0.8e6, 1.2e6)}).validate()
    empty = np.empty(0, dtype=object)
    inp = Inputs(CRS.from_epsg(32650), shapely.union_all(geoms), cfg, empty, np.empty(0, dtype=int), empty)
    inp.units = np.array(list(units), dtype=object)
    return inp


def _blocks(geoms) -> Blocks:
    n = len(geoms)
    return Blocks(
        geoms=np.array(geoms, dtype=object),
        community=np.full(n, -1),
        tier=np.array(["B"] * n, dtype=object),
        rule_tier=np.ones(n, dtype=bool),
        origin=np.zeros(n, dtype=np.int8),
        group=np.zeros(n, dtype=np.int64),
    )


def test_block_bigger_than_a_grid_is_cut_into_equal_grid_sized_pieces():
    block = shapely.box(X0, Y0, X0 + 1800, Y0 + 1000)  # 1.8 km², the group's grids are 0.6 km²
    inp = _inputs([block])
    groups = Groups(tier=np.array(["B"]), community=np.array([-1]), size=np.array([1.8]), k=np.array([3]))
    out = _split_to_unit(_blocks([block]), groups, Sizer(inp), _Splitter(inp), inp)
    areas = shapely.area(out.geoms)
    assert len(out) == 3
    assert np.allclose(areas, 0.6e6, rtol=0.01)
    assert abs(areas.sum() - block.area) < 1.0
    heights = np.array([b[3] - b[1] for b in shapely.bounds(out.geoms)])
    assert np.allclose(heights, 1000.0)  # cut across the long (x) axis
    assert (out.origin == 2).all()


def test_block_within_a_grid_size_is_kept():
    block = shapely.box(X0, Y0, X0 + 700, Y0 + 1000)
    inp = _inputs([block])
    groups = Groups(tier=np.array(["B"]), community=np.array([-1]), size=np.array([0.7]), k=np.array([1]))
    out = _split_to_unit(_blocks([block]), groups, Sizer(inp), _Splitter(inp), inp)
    assert len(out) == 1 and shapely.equals(out.geoms[0], block) and out.origin[0] == 0


def test_straight_cuts_never_cut_a_unit():
    block = shapely.box(X0, Y0, X0 + 4000, Y0 + 600)  # 4 km long, cap 1.5 km: needs cuts
    campus = shapely.box(X0 + 1700, Y0 + 100, X0 + 2300, Y0 + 500)  # straddles the middle
    inp = _inputs([block], cap=1500.0, units=[campus])
    out = _split_over_cap(_blocks([block]), _Splitter(inp), inp)
    assert len(out) >= 3
    assert (diameters(out.geoms) <= 1500.0 + 1e-6).all()
    holding = shapely.area(shapely.intersection(out.geoms, campus))
    assert np.isclose(holding.max(), campus.area)  # one piece holds all of the campus
    assert abs(shapely.area(out.geoms).sum() - block.area) < 1.0


def test_unit_borders_are_used_before_straight_cuts():
    block = shapely.box(X0, Y0, X0 + 2400, Y0 + 800)
    compounds = [shapely.box(X0 + x, Y0, X0 + x + 800, Y0 + 800) for x in (0, 800, 1600)]  # three side by side
    inp = _inputs([block], cap=1500.0, units=compounds)
    out = _split_over_cap(_blocks([block]), _Splitter(inp), inp)
    assert len(out) == 3
    assert (out.origin == 1).all()  # split along the unit borders, no straight cut
    assert sorted(np.round(shapely.area(out.geoms) / 1e4)) == [64, 64, 64]
