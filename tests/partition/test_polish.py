"""polish (the block swaps after merging): every guarantee still holds, and grids come out rounder than without it.

Each case partitions the same input twice, with the stage and with it replaced by the identity, so the difference is
the stage's alone: the generated district (communities, tier zones, a river barrier) and the real Helsinki extract.
"""

from __future__ import annotations

import numpy as np
import shapely

import geogrid.partition.engine as engine
from geogrid.config import PartitionConfig
from geogrid.metrics.compactness import area_cv, reock
from geogrid.partition import partition
from geogrid.partition.polish import CV_MAX
from tests.partition.conftest import SMALL_TIERS, assert_guarantees


def _without_polish(monkeypatch, *args, **kw):
    with monkeypatch.context() as m:
        m.setattr(engine, "polish", lambda plan, *a: plan)
        return partition(*args, **kw)


def _compare(result, plain) -> None:
    """Rounder on average, no more straight-cut border, and no tier less even than it was or than ``CV_MAX``."""
    metric = result.report["metric_crs"]
    polished, before = result.grids.to_crs(metric), plain.grids.to_crs(metric)
    assert reock(polished.geometry.to_numpy()).mean() > reock(before.geometry.to_numpy()).mean()
    assert result.straight_cuts["length_m"].sum() <= plain.straight_cuts["length_m"].sum() + 1e-6
    for tier in sorted(set(polished["tier"])):
        cv = area_cv(shapely.area(polished.geometry[polished["tier"] == tier].to_numpy()))
        cv_before = area_cv(shapely.area(before.geometry[before["tier"] == tier].to_numpy()))
        assert cv <= max(cv_before, CV_MAX) + 0.02, (tier, cv, cv_before)
    # every grid's blocks lie in its grid's community: the stage never moves a block across one
    blocks = result.blocks
    assert (blocks.groupby("grid_code")["community_code"].nunique() == 1).all()


def test_polish_on_generated_district(district, district_result, monkeypatch):
    assert_guarantees(
        district_result, district.boundary, district.roads, district.communities, barriers=district.barriers
    )
    args = (district.roads, district.boundary, district.communities, district.tier_zones, district.barriers)
    plain = _without_polish(monkeypatch, *args, PartitionConfig(tiers=dict(SMALL_TIERS)))
    _compare(district_result, plain)


def test_polish_on_helsinki(helsinki_roads, helsinki_boundary, helsinki_communities, helsinki_result, monkeypatch):
    assert_guarantees(helsinki_result, helsinki_boundary, helsinki_roads, helsinki_communities)
    args = (helsinki_roads, helsinki_boundary, helsinki_communities)
    plain = _without_polish(monkeypatch, *args, config=PartitionConfig(tiers=dict(SMALL_TIERS)))
    _compare(helsinki_result, plain)


def test_polish_keeps_a_promised_grid_count(helsinki_roads, helsinki_boundary, helsinki_communities, monkeypatch):
    """With ``target_count`` no grid is folded away; the swaps still hold every guarantee."""
    count = 10
    cfg = PartitionConfig(target_count=count)  # default tiers: their patrol diameters allow 10 grids here
    result = partition(helsinki_roads, helsinki_boundary, helsinki_communities, config=cfg)
    assert_guarantees(result, helsinki_boundary, helsinki_roads, helsinki_communities, config=cfg)
    plain = _without_polish(monkeypatch, helsinki_roads, helsinki_boundary, helsinki_communities, config=cfg)
    assert len(result.grids) == len(plain.grids) == count
    assert np.isfinite(result.grids["reock"]).all()
