"""The synthetic district has the properties the engine, the demo and the benchmarks rely on."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geogrid.crs import local_metric_crs
from geogrid.demo import district as synthetic


@pytest.fixture(scope="module")
def small() -> synthetic.SyntheticDistrict:
    return synthetic.small_district(seed=7)


@pytest.fixture(scope="module")
def large() -> synthetic.SyntheticDistrict:
    return synthetic.make_district(seed=3)


def _wkb(d: synthetic.SyntheticDistrict) -> list[bytes]:
    return [g.wkb for gdf in d.layers().values() for g in gdf.geometry]


def test_same_seed_same_district_other_seed_differs() -> None:
    a, b = synthetic.small_district(seed=11), synthetic.small_district(seed=11)
    assert _wkb(a) == _wkb(b)
    for name in ("roads", "communities", "streets"):
        assert a.layers()[name].drop(columns="geometry").equals(b.layers()[name].drop(columns="geometry"))
    c = synthetic.small_district(seed=12)
    assert _wkb(a) != _wkb(c)


@pytest.mark.parametrize("area_km2", [8.0, 12.0, 50.0])
def test_boundary_has_requested_area(area_km2: float) -> None:
    d = synthetic.make_district(area_km2, seed=1)
    assert len(d.boundary) == 1
    assert d.boundary.geometry.iloc[0].geom_type == "Polygon"
    assert d.boundary.geometry.iloc[0].is_valid
    assert d.boundary.area.iloc[0] / 1e6 == pytest.approx(area_km2, rel=1e-6)


def test_small_and_default_sizes() -> None:
    assert synthetic.small_district().boundary.area.iloc[0] / 1e6 == pytest.approx(synthetic.SMALL_AREA_KM2)
    assert 8.0 <= synthetic.SMALL_AREA_KM2 <= 12.0
    assert abs(synthetic.DEFAULT_AREA_KM2 - 50.0) < 1e-9


def test_metric_crs_and_store_placement(small: synthetic.SyntheticDistrict) -> None:
    lon, lat = synthetic.DEFAULT_ORIGIN
    assert small.crs.equals(local_metric_crs(lon, lat))
    stored = small.to_store()
    assert stored.roads.crs.to_epsg() == 4490
    centre = stored.boundary.to_crs(small.crs).centroid.to_crs(4490).iloc[0]
    assert abs(centre.x - lon) < 1e-6 and abs(centre.y - lat) < 1e-6
    moved = synthetic.small_district(origin=(114.30, 30.58)).to_store().boundary
    assert moved.total_bounds[0] < 114.30 < moved.total_bounds[2]
    assert moved.total_bounds[1] < 30.58 < moved.total_bounds[3]


def test_dual_carriageways_20_to_30_m_apart(large: synthetic.SyntheticDistrict) -> None:
    roads = large.roads
    main = roads[roads["highway"].isin(["trunk", "primary"]) & (roads["junction"] != "roundabout")]
    assert (main["oneway"] == "yes").all()
    long = main[main.length > 100]
    assert len(long) > 50
    mids = shapely.line_interpolate_point(long.geometry.to_numpy(), 0.5, normalized=True)
    # distance from each carriageway's midpoint to the nearest *other* main carriageway
    tree = shapely.STRtree(main.geometry.to_numpy())
    pairs = tree.query(mids, predicate="dwithin", distance=40.0)
    own = main.index.get_indexer(long.index)
    dist = np.full(len(long), np.inf)
    for i, j in zip(*pairs, strict=True):
        if j != own[i] and not shapely.touches(main.geometry.iloc[j], long.geometry.iloc[i]):
            dist[i] = min(dist[i], shapely.distance(mids[i], main.geometry.iloc[j]))
    paired = (dist >= 19.0) & (dist <= 31.0)
    assert paired.mean() > 0.9


def test_roundabouts_are_closed_one_way_rings(large: synthetic.SyntheticDistrict) -> None:
    ring = large.roads[large.roads["junction"] == "roundabout"]
    assert len(ring) > 0
    assert (ring["oneway"] == "yes").all()
    merged = shapely.get_parts(shapely.line_merge(shapely.union_all(ring.geometry.to_numpy())))
    closed = shapely.is_closed(merged)
    assert closed.sum() >= 2
    assert (shapely.length(merged[closed]) < 2 * np.pi * 50).all()


def test_cul_de_sacs_and_paths_present(large: synthetic.SyntheticDistrict) -> None:
    roads = large.roads
    geoms = roads.geometry.to_numpy()
    first, last = shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)
    ends = np.round(np.vstack([shapely.get_coordinates(first), shapely.get_coordinates(last)]), 3)
    _, inv, counts = np.unique(ends, axis=0, return_inverse=True, return_counts=True)
    deg = counts[inv.ravel()].reshape(2, -1)
    dead_end = (deg == 1).any(axis=0)
    inside = shapely.within(geoms, large.boundary.geometry.iloc[0].buffer(-300))
    residential = (roads["highway"] == "residential").to_numpy()
    assert (dead_end & inside & residential).sum() >= 20
    assert {"footway", "path", "track", "service", "secondary", "tertiary"} <= set(roads["highway"])


def test_roads_are_noded_lines(small: synthetic.SyntheticDistrict) -> None:
    geoms = small.roads.geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 1).all()
    assert shapely.is_valid(geoms).all()
    # noded: no two edges cross at an interior point
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="crosses")
    assert len(a) == 0


def test_river_crosses_the_district(large: synthetic.SyntheticDistrict) -> None:
    river = large.barriers
    assert list(river["kind"]) == ["river"]
    boundary = large.boundary.geometry.iloc[0]
    inside = shapely.intersection(river.geometry.iloc[0], boundary)
    assert len(shapely.get_parts(shapely.difference(boundary, river.geometry.iloc[0]))) >= 2
    assert inside.area > 0
    assert set(large.roads.loc[large.roads["bridge"] == "yes", "highway"]) <= {"trunk", "primary", "secondary"}
    minor = large.roads[large.roads["highway"].isin(["residential", "footway", "path", "track", "service"])]
    assert not shapely.intersects(minor.geometry.to_numpy(), river.geometry.iloc[0]).any()


@pytest.mark.parametrize("which", ["small", "large"])
def test_communities_and_streets_tile_the_district(which: str, request: pytest.FixtureRequest) -> None:
    d: synthetic.SyntheticDistrict = request.getfixturevalue(which)
    boundary = d.boundary.geometry.iloc[0]
    for layer in (d.communities, d.streets, d.tier_zones):
        geoms = layer.geometry.to_numpy()
        assert shapely.is_valid(geoms).all()
        union = shapely.union_all(geoms)
        assert shapely.area(geoms).sum() == pytest.approx(union.area, rel=1e-9)  # no overlap
        assert shapely.symmetric_difference(union, boundary).area < 1e-6 * boundary.area  # no gap, nothing outside
    assert len(d.communities) >= 12


@pytest.mark.parametrize("which", ["small", "large"])
def test_community_borders_follow_arterial_centerlines(which: str, request: pytest.FixtureRequest) -> None:
    d: synthetic.SyntheticDistrict = request.getfixturevalue(which)
    boundary = d.boundary.geometry.iloc[0]
    borders = shapely.difference(shapely.union_all(d.communities.boundary.to_numpy()), boundary.exterior.buffer(0.01))
    main = d.roads[d.roads["highway"].isin(["trunk", "primary"]) & (d.roads["junction"] != "roundabout")]
    # the centerline lies midway between the two carriageways (≤ 15 m from each)
    near = shapely.intersection(borders, shapely.union_all(main.buffer(15.5).to_numpy()))
    assert near.length / borders.length > 0.97


@pytest.mark.parametrize("which", ["small", "large"])
def test_codes_are_well_formed(which: str, request: pytest.FixtureRequest) -> None:
    d: synthetic.SyntheticDistrict = request.getfixturevalue(which)
    district = d.boundary["code"].iloc[0]
    assert len(district) == 6 and district.isdigit()
    streets, comms = d.streets, d.communities
    assert streets["code"].str.fullmatch(r"\d{9}").all() and streets["code"].is_unique
    assert (streets["code"].str[:6] == district).all()
    assert comms["code"].str.fullmatch(r"\d{12}").all() and comms["code"].is_unique
    assert (comms["code"].str[:9] == comms["parent_code"]).all()
    assert set(comms["parent_code"]) == set(streets["code"])
    towns = streets["name"].str.endswith("镇")
    assert (streets.loc[towns, "code"].str[6:].astype(int).between(100, 199)).all()
    assert (streets.loc[~towns, "code"].str[6:].astype(int).between(1, 99)).all()
    villages = comms["name"].str.endswith("村")
    assert comms.loc[villages, "parent_code"].isin(streets.loc[towns, "code"]).all()
    assert (comms.loc[villages, "code"].str[9:].astype(int) >= 200).all()
    assert comms.loc[~villages, "name"].str.endswith("社区").all()
    assert comms["name"].is_unique and streets["name"].is_unique
    # each community lies inside its street
    joined = comms.merge(streets[["code", "geometry"]], left_on="parent_code", right_on="code", suffixes=("", "_s"))
    inside = shapely.covered_by(joined.geometry.buffer(-1).to_numpy(), joined["geometry_s"].to_numpy())
    assert inside.all()


def test_tier_zones_cover_all_tiers_on_large(large: synthetic.SyntheticDistrict) -> None:
    assert set(large.tier_zones["tier"]) == {"A", "B", "C"}


def test_write_district_round_trips_in_4490(tmp_path, small: synthetic.SyntheticDistrict) -> None:
    paths = synthetic.write_district(small, tmp_path, prefix="demo_")
    assert set(paths) == set(small.layers())
    roads = gpd.read_file(paths["roads"])
    assert roads.crs.to_epsg() == 4490
    assert len(roads) == len(small.roads)
    assert set(roads["highway"]) == set(small.roads["highway"])
    comms = gpd.read_file(paths["communities"])
    assert list(comms["code"]) == list(small.communities["code"])
    back = comms.to_crs(small.crs)
    assert np.allclose(back.area.to_numpy(), small.communities.area.to_numpy(), rtol=1e-6)
    gpkg = synthetic.write_district(small, tmp_path / "g", driver="GPKG", layers=("boundary",))
    assert list(gpkg) == ["boundary"] and gpkg["boundary"].suffix == ".gpkg"
    with pytest.raises(ValueError, match="driver"):
        synthetic.write_district(small, tmp_path, driver="KML")


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="area_km2"):
        synthetic.make_district(0.1)
    with pytest.raises(ValueError, match="district_code"):
        synthetic.make_district(10, district_code="5201")
