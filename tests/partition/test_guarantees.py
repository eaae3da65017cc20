"""The output guarantees of issue 3 on a generated district and on the real Helsinki OSM extract."""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.config import PartitionConfig
from geogrid.partition import partition
from tests.partition.conftest import SMALL_TIERS, assert_guarantees


def test_synthetic_district_guarantees(district, district_result):
    grids = assert_guarantees(
        district_result, district.boundary, district.roads, district.communities, barriers=district.barriers
    )
    assert len(grids) > len(district.communities)  # communities hold several grids each: aggregation really ran


def test_synthetic_tiers_follow_tier_zones(district, district_result):
    metric = district_result.report["metric_crs"]
    grids = district_result.grids.to_crs(metric)
    zones = district.tier_zones.to_crs(metric)
    pts = grids.geometry.representative_point()
    for tier, zone in zip(zones["tier"], zones.geometry, strict=True):
        inside = pts.within(zone).to_numpy()
        assert (grids.loc[inside, "tier"] == tier).all()


def test_helsinki_guarantees(helsinki_roads, helsinki_boundary, helsinki_communities, helsinki_result):
    grids = assert_guarantees(helsinki_result, helsinki_boundary, helsinki_roads, helsinki_communities)
    assert len(grids) >= 6
    assert set(grids["community_code"]) == {"110101001001", "110101001002"}


def test_helsinki_without_communities_uses_config_prefix(helsinki_roads, helsinki_boundary):

    cfg = PartitionConfig(tiers=dict(SMALL_TIERS), community_code="110101001099")
    res = partition(helsinki_roads, helsinki_boundary, config=cfg)
    grids = assert_guarantees(res, helsinki_boundary, helsinki_roads, config=cfg)
    assert (grids["code"].str[:12] == "110101001099").all()


def test_blocks_layer_tiles_the_grids(district_result):
    metric = district_result.report["metric_crs"]
    blocks = district_result.blocks.to_crs(metric)
    grids = district_result.grids.to_crs(metric).set_index("code")
    assert set(blocks["grid_code"]) == set(grids.index)
    per_grid = blocks.groupby("grid_code").geometry.apply(lambda s: shapely.union_all(s.to_numpy()))
    for code, geom in per_grid.items():
        g = grids.loc[code, "geometry"]
        assert abs(geom.area - g.area) <= 1e-6 * g.area + 1e-3
        assert shapely.area(shapely.symmetric_difference(geom, g)) <= 1e-6 * g.area + 1e-3


def test_report_matches_grids(district_result):
    rep = district_result.report
    grids = district_result.grids
    assert rep["grids"] == len(grids)
    assert sum(t["grids"] for t in rep["tiers"].values()) == len(grids)
    assert rep["coverage"] >= 0.999
    pp = grids["polsby_popper"].to_numpy()
    assert np.isclose(rep["polsby_popper_mean"], pp.mean(), atol=1e-3)
    assert 0 <= rep["internal_border"]["within_15m_of_centerline"] <= 1
    assert ((grids["road_share"] >= 0) & (grids["road_share"] <= 1)).all()


def test_generated_50km2_district_default_config():
    from geogrid.demo.district import make_district

    d = make_district(seed=1)
    res = partition(d.roads, d.boundary, d.communities, d.tier_zones, d.barriers)
    grids = assert_guarantees(res, d.boundary, d.roads, d.communities, config=PartitionConfig(), barriers=d.barriers)
    assert set(grids["tier"]) == {"A", "B", "C"}
    assert res.report["internal_border"]["within_15m_of_centerline"] >= 0.95
