"""Configuration files and the engine's errors on bad input or limits that cannot be met."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geogrid.config import ConfigError, PartitionConfig, TierSpec, load_config
from geogrid.partition import PartitionError, partition
from tests.partition.conftest import SMALL_TIERS


def test_toml_and_yaml(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("target_count = 12\n[tiers.A]\nmax_diameter_m = 1200\ntarget_area_km2 = [0.2, 0.4]\n")
    cfg = load_config(toml)
    assert cfg.target_count == 12
    assert cfg.tiers["A"] == TierSpec(1200.0, 0.2e6, 0.4e6)
    assert cfg.tiers["B"].max_diameter_m == 3000.0
    yml = tmp_path / "c.yaml"
    yml.write_text("tiers:\n  C:\n    max_diameter_m: 4000\n    target_area_km2: 2.5\n")
    cfg = load_config(yml)
    assert cfg.tiers["C"].max_diameter_m == 4000.0
    assert cfg.tiers["C"].target_area_m2 == pytest.approx(2.5e6)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("tiers = {D = {max_diameter_m = 100}}", "tiers.D: unknown tier"),
        ("max_grids = 3", "unknown key"),
        ("[tiers.A]\nmax_diameter_m = 500\ntarget_area_km2 = [0.5, 0.8]", "cannot fit within a patrol diameter"),
        ("[tiers.A]\nmax_diameter_m = 10", "cannot be met"),
        ("target_count = 0", "target_count"),
        ("[tiers.A\n", "cannot parse"),
    ],
)
def test_bad_config(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert "bad.toml" in str(info.value)


def test_boundary_not_a_polygon(district):
    line = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=district.roads.crs)
    with pytest.raises(PartitionError, match="boundary: must be polygons"):
        partition(district.roads, line)


def test_no_roads_inside_boundary(district):
    far = shapely.box(*(district.boundary.total_bounds + [50_000, 0, 50_000, 0]))
    with pytest.raises(PartitionError, match="no road"):
        partition(district.roads, gpd.GeoDataFrame(geometry=[far], crs=district.roads.crs))


def test_target_count_below_community_count(district):
    cfg = PartitionConfig(target_count=3)
    with pytest.raises(PartitionError, match="target_count 3 cannot be met"):
        partition(district.roads, district.boundary, district.communities, config=cfg)


def test_target_count_met_exactly(district):
    n = len(district.communities) * 2 + 2
    res = partition(district.roads, district.boundary, district.communities, config=PartitionConfig(target_count=n))
    assert len(res.grids) == n


def test_target_count_against_diameter_limits(district):
    n = len(district.communities) + 1  # ~1 km² grids cannot fit a 600 m tier-A patrol diameter
    cfg = PartitionConfig(tiers=dict(SMALL_TIERS), target_count=n)
    with pytest.raises(PartitionError, match=rf"target_count {n} cannot be met: the patrol diameter limits"):
        partition(district.roads, district.boundary, district.communities, config=cfg)


def test_bad_community_code(district):
    comm = district.communities.copy()
    comm.loc[comm.index[2], "code"] = "52019900100"
    with pytest.raises(PartitionError, match="feature 2 is '52019900100', not a 12-digit community code"):
        partition(district.roads, district.boundary, comm)


def test_unknown_tier_in_zones(district):
    zones = district.tier_zones.copy()
    zones["tier"] = ["A", "B", "X"]
    with pytest.raises(PartitionError, match="unknown tier.*X"):
        partition(district.roads, district.boundary, tier_zones=zones)
