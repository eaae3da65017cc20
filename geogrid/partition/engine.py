"""``partition()``: road network + boundary (+ communities, tier zones, barriers) → tiered management grids.

Stages (all in the local metric CRS): blocks from the cleaned road linework (``faces``), tiers (``geogrid.tiers``),
oversize splits and the large/elongated-face pass (``split``), aggregation (``aggregate``), codes, metrics. Bad input
raises ``PartitionError``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geogrid import STORE_SRID
from geogrid.config import PartitionConfig
from geogrid.crs import metric_crs_for
from geogrid.metrics.borders import STEP_M, segment_pieces
from geogrid.metrics.compactness import area_cv, max_mean_ratio, polsby_popper, reock
from geogrid.metrics.size import diameter_m
from geogrid.partition.aggregate import build_graph, grids_for_group, rebalance_counts
from geogrid.partition.codes import grid_codes
from geogrid.partition.errors import PartitionError
from geogrid.partition.faces import build_faces, rebuild_coverage
from geogrid.partition.geom import first_segment, grouped_union, lines_only, polygons_only
from geogrid.partition.merge import merge_small_grids
from geogrid.partition.split import split_large, split_oversize
from geogrid.roads.classes import MAIN, MINOR, classify
from geogrid.tiers import auto_tiers, zone_tiers

CODE_FIELDS = ("community_code", "code", "adcode", "qhdm", "xzqdm", "社区代码", "代码", "编码")
TOL_M = 15.0


@dataclass
class PartitionResult:
    grids: gpd.GeoDataFrame
    """EPSG:4490; code, tier, community_code, area_m2, diameter_m, road_share, polsby_popper, reock, n_blocks."""
    blocks: gpd.GeoDataFrame
    """EPSG:4490; block_id, grid_code, community_code, tier, area_m2, origin (face / path split / straight cut)."""
    report: dict
    centerlines: gpd.GeoDataFrame = field(default=None)
    """Road centrelines used as borders (EPSG:4490): block edges on roads or between carriageways."""


def _near(points: np.ndarray, targets: np.ndarray, tol: float) -> np.ndarray:
    """True for each point within ``tol`` m of any target geometry."""
    out = np.zeros(len(points), dtype=bool)
    if len(points) and len(targets):
        qi, _ = shapely.STRtree(np.asarray(targets, dtype=object)).query(points, predicate="dwithin", distance=tol)
        out[qi] = True
    return out


def _as_gdf(obj, crs, what: str) -> gpd.GeoDataFrame:
    if isinstance(obj, gpd.GeoDataFrame):
        return obj
    if isinstance(obj, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=obj)
    if isinstance(obj, shapely.Geometry):
        return gpd.GeoDataFrame(geometry=[obj], crs=crs)
    raise PartitionError(f"{what}: expected a GeoDataFrame or a shapely geometry, got {type(obj).__name__}")


def _boundary_metric(boundary, crs) -> tuple[object, object]:
    gdf = _as_gdf(boundary, crs, "boundary")
    if len(gdf) == 0:
        raise PartitionError("boundary: no features")
    types = set(gdf.geom_type.dropna())
    if not types or not types <= {"Polygon", "MultiPolygon"}:
        raise PartitionError(f"boundary: must be polygons, got {', '.join(sorted(map(str, types))) or 'nothing'}")
    if gdf.crs is None:
        gdf = gdf.set_crs(crs or STORE_SRID)
    metric = metric_crs_for(gdf)
    geom = shapely.union_all(shapely.make_valid(gdf.to_crs(metric).geometry.to_numpy()))
    parts = polygons_only(shapely.get_parts(geom))
    if len(parts) == 0 or shapely.area(shapely.union_all(parts)) < 1.0:
        raise PartitionError("boundary: the polygon has no area")
    return shapely.union_all(parts), metric


def _road_classes(roads: gpd.GeoDataFrame) -> np.ndarray:
    if "road_class" in roads.columns:
        return pd.to_numeric(roads["road_class"], errors="coerce").fillna(0).astype(int).to_numpy()
    if "highway" in roads.columns:
        return classify(roads["highway"])
    return np.full(len(roads), 3, dtype=np.int64)


def _community_codes(comm: gpd.GeoDataFrame, cfg: PartitionConfig) -> np.ndarray:
    field_name = cfg.community_code_field
    if field_name is None:
        lower = {str(c).lower(): c for c in comm.columns if c != comm.geometry.name}
        field_name = next((lower[f] for f in CODE_FIELDS if f in lower), None)
    if field_name is None or field_name not in comm.columns:
        have = ", ".join(str(c) for c in comm.columns if c != comm.geometry.name) or "(none)"
        raise PartitionError(f"communities: no 12-digit community code field ({'/'.join(CODE_FIELDS)}); fields: {have}")
    codes = comm[field_name].astype(str).str.strip().str.replace(r"\.0$", "", regex=True).to_numpy()
    bad = [i for i, c in enumerate(codes) if not (len(c) == 12 and c.isdigit())]
    if bad:
        raise PartitionError(
            f"communities: field {field_name!r} of feature {bad[0]} is {codes[bad[0]]!r}, not a 12-digit community code"
        )
    return codes


def _to_lines(gdf: gpd.GeoDataFrame | None, metric) -> np.ndarray:
    if gdf is None or len(gdf) == 0:
        return np.empty(0, dtype=object)
    g = gdf.to_crs(metric).geometry.to_numpy()
    poly = np.isin(shapely.get_type_id(g), (3, 6))
    g = np.where(poly, shapely.boundary(g), g)
    return lines_only(g)


def _groups(n: int, pairs: np.ndarray, key: np.ndarray) -> np.ndarray:
    same = key[pairs[:, 0]] == key[pairs[:, 1]] if len(pairs) else np.zeros(0, dtype=bool)
    p = pairs[same]
    g = coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _counts_for_balance(areas, targets, mins, maxs, capacity) -> np.ndarray:
    """Grids per group: per tier, the target area within [min, max] whose rounding gives the most even grids.

    Why: a group of 1.4 × target makes one grid and one of 1.6 × target two of 0.8; choosing the target inside the
    configured range so that area / round(area / target) varies least lowers the tier's area CV before any growing.
    """
    k = np.ones(len(areas), dtype=np.int64)
    for t in np.unique(targets):
        m = targets == t
        a = areas[m]
        best, best_k = None, None
        for cand in np.unique(np.concatenate([[t], np.linspace(mins[m][0], maxs[m][0], 41)])):
            kk = np.clip(np.round(a / cand), 1, capacity[m]).astype(np.int64)
            sizes = np.repeat(a / kk, kk)
            score = (sizes.std() / sizes.mean(), abs(cand - t) / t)
            if best is None or score < best:
                best, best_k = score, kk
        k[m] = best_k
    return k


def _grid_counts(
    areas: np.ndarray, targets: np.ndarray, mins: np.ndarray, maxs: np.ndarray, count: int | None, capacity: np.ndarray
):
    if count is None:
        return _counts_for_balance(areas, targets, mins, maxs, capacity)
    if count < len(areas):
        raise PartitionError(
            f"target_count {count} cannot be met: the boundary holds {len(areas)} community/tier groups and every one "
            "needs at least one grid"
        )
    if count > capacity.sum():
        raise PartitionError(f"target_count {count} cannot be met: the boundary holds only {capacity.sum()} blocks")
    q = areas / areas.sum() * count
    k = np.clip(np.floor(q), 1, capacity).astype(int)
    rest = count - k.sum()
    while rest > 0:  # hand out the remainder by largest shortfall, within each group's block count
        room = k < capacity
        i = int(np.argmax(np.where(room, q - k, -np.inf)))
        k[i] += 1
        rest -= 1
    if rest < 0:
        for i in np.argsort(q - k):
            if rest == 0:
                break
            if k[i] > 1:
                k[i] -= 1
                rest += 1
    return k


def _smooth_tiers(blocks, tier, rule, comm, pairs, pair_w, specs, target_of, metric, rounds: int = 4):
    """Fold rule-tiered islands smaller than half their tier's target into the tier around them.

    Why: the density rule works on communities or 1 km cells, which leaves small patches of one tier inside
    another; each patch would become an undersized grid. A patch takes the tier it shares most border with
    (inside its community), when every block of it fits that tier's diameter cap.
    """
    tier = tier.copy()
    if len(pairs) == 0:
        return tier
    diam = diameter_m(gpd.GeoSeries(blocks, crs=metric))
    area = shapely.area(blocks)
    names = sorted(specs)
    for _ in range(rounds):
        t_idx = np.array([names.index(x) for x in tier])
        group = _groups(len(blocks), pairs, comm * 8 + t_idx)
        g_area = np.bincount(group, weights=area)
        g_tier = np.zeros(len(g_area), dtype=np.int64)
        g_tier[group] = t_idx
        g_rule = np.zeros(len(g_area), dtype=bool)
        g_rule[group[rule]] = True
        small = g_rule & (g_area < 0.5 * np.array([target_of[names[t]] for t in g_tier]))
        i, j = pairs[:, 0], pairs[:, 1]
        cross = (group[i] != group[j]) & (comm[i] == comm[j])
        src = np.concatenate([group[i][cross], group[j][cross]])
        dst = np.concatenate([t_idx[j][cross], t_idx[i][cross]])
        w = np.concatenate([pair_w[cross], pair_w[cross]])
        ok = small[src]
        if not ok.any():
            break
        key = src[ok] * len(names) + dst[ok]
        ukey, inv = np.unique(key, return_inverse=True)
        tot = np.bincount(inv, weights=w[ok])
        kg, kt = ukey // len(names), ukey % len(names)
        order = np.lexsort((-tot, kg))
        first = np.ones(len(order), dtype=bool)
        first[1:] = kg[order][1:] != kg[order][:-1]
        new_t = np.full(len(g_area), -1)
        new_t[kg[order][first]] = kt[order][first]
        cap = np.array([specs[x].max_diameter_m for x in names])
        g_fit = np.ones(len(g_area), dtype=bool)
        nb = new_t[group]
        np.logical_and.at(g_fit, group, (nb < 0) | (diam <= cap[np.maximum(nb, 0)]))
        change = (new_t[group] >= 0) & g_fit[group] & rule
        if not change.any():
            break
        tier[change] = np.array(names, dtype=object)[new_t[group][change]]
    return tier


def partition(
    roads: gpd.GeoDataFrame,
    boundary,
    communities: gpd.GeoDataFrame | None = None,
    tier_zones: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    config: PartitionConfig | None = None,
    progress: bool = False,
) -> PartitionResult:
    """Partition ``boundary`` into grids bounded by road centrelines; see the module docstring."""
    from tqdm.auto import tqdm

    cfg = (config or PartitionConfig()).validate()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    bar = tqdm(total=7, desc="partition", disable=not progress, unit="stage")

    def tick(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        bar.update(1)
        bar.set_postfix_str(f"{name} done")
        return now

    if not isinstance(roads, gpd.GeoDataFrame) or len(roads) == 0:
        raise PartitionError("roads: no road features")
    bnd, metric = _boundary_metric(boundary, roads.crs)
    roads_m = roads.to_crs(metric) if roads.crs is not None else roads.set_crs(metric)
    cls = _road_classes(roads_m)
    rlines, ridx = lines_only(roads_m.geometry.to_numpy(), return_index=True)
    rcls = cls[ridx]
    border = (rcls >= MAIN) & (rcls < MINOR)
    shapely.prepare(bnd)
    if not shapely.intersects(bnd, rlines[border]).any():
        raise PartitionError("roads: no road (main, secondary or local class) lies inside the boundary")
    minor_lines = lines_only(shapely.intersection(rlines[rcls == MINOR], bnd))

    comm_polys = None
    comm_codes = np.empty(0, dtype=object)
    if communities is not None and len(communities):
        cm = _as_gdf(communities, roads.crs, "communities")
        comm_codes_all = _community_codes(cm, cfg)
        cg = shapely.intersection(shapely.make_valid(cm.to_crs(metric).geometry.to_numpy()), bnd)
        keep = shapely.area(cg) > 1.0
        comm_polys, comm_codes = cg[keep], comm_codes_all[keep]
        if len(comm_polys) == 0:
            raise PartitionError("communities: none of them overlaps the boundary")
    barrier_lines = _to_lines(barriers, metric)
    t = tick("inputs", t0)

    fs = build_faces(rlines[border], rcls[border], bnd, comm_polys, barrier_lines, cfg.half_widths)
    t = tick("blocks", t)

    # --- tiers
    blocks = fs.blocks
    bcomm = fs.community
    tier = np.full(len(blocks), None, dtype=object)
    tier_source = "rule"
    if tier_zones is not None and len(tier_zones):
        tz = _as_gdf(tier_zones, roads.crs, "tier_zones")
        if cfg.tier_field not in tz.columns:
            raise PartitionError(f"tier_zones: no field {cfg.tier_field!r}")
        zt = tz[cfg.tier_field].astype(str).str.strip().str.upper().to_numpy()
        bad = sorted(set(zt) - set(cfg.tiers))
        if bad:
            raise PartitionError(f"tier_zones: field {cfg.tier_field!r} has unknown tier(s) {', '.join(bad)} (A/B/C)")
        tier = zone_tiers(blocks, tz.to_crs(metric).geometry.to_numpy(), zt)
        tier_source = "zones"
    missing = np.array([x is None for x in tier], dtype=bool)
    rule_tier = missing.copy()
    if missing.any():
        codes_map = {i: str(c) for i, c in enumerate(comm_codes)}
        auto, _ = auto_tiers(blocks, bcomm, codes_map, fs.road_lines[fs.road_class == MAIN])
        tier[missing] = auto[missing]
        if tier_source == "zones":
            tier_source = "zones+rule"
    specs = cfg.tiers
    total_area = float(shapely.area(bnd))
    if cfg.target_count is not None:
        tgt_all = total_area / cfg.target_count
        target_of = {k: tgt_all for k in specs}
    else:
        target_of = {k: s.target_area_m2 for k, s in specs.items()}
    caps = np.array([specs[x].max_diameter_m for x in tier])
    # a block over twice its tier's largest grid area is split too (a campus, a lake): no grid could hold it evenly
    max_areas = np.array([2.0 * max(specs[x].max_area_m2, target_of[x] * 1.3) for x in tier])
    targets = np.array([target_of[x] for x in tier])
    t = tick("tiers", t)

    # --- oversize blocks
    origin = np.zeros(len(blocks), dtype=np.int8)
    for it in range(3):  # re-noding can graft a sliver onto a block: check the caps again on the exact coverage
        blocks, src, cut = split_oversize(blocks, caps, max_areas, minor_lines, targets, metric)
        bcomm, tier, rule_tier, caps, max_areas, targets = (
            a[src] for a in (bcomm, tier, rule_tier, caps, max_areas, targets)
        )
        origin = np.maximum(origin[src], cut)
        if it == 0:  # second pass, once: large or elongated faces cut towards the tier target (see split_large)
            blocks, src, cut = split_large(blocks, caps, targets, minor_lines, origin == 0, metric)
            bcomm, tier, rule_tier, caps, max_areas, targets = (
                a[src] for a in (bcomm, tier, rule_tier, caps, max_areas, targets)
            )
            origin = np.maximum(origin[src], cut)
        blocks, bsrc, edges, sides = rebuild_coverage(blocks, bcomm)
        bcomm, tier, origin, rule_tier, caps, max_areas, targets = (
            a[bsrc] for a in (bcomm, tier, origin, rule_tier, caps, max_areas, targets)
        )
        if (diameter_m(gpd.GeoSeries(blocks, crs=metric)) <= caps).all():
            break
    else:
        raise PartitionError("blocks could not be brought under the diameter limits (geometry too degenerate)")
    n = len(blocks)
    t = tick("split", t)

    # --- adjacency, groups, aggregation
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0) & (sides[:, 0] != sides[:, 1])
    pairs = np.sort(sides[inner], axis=1)
    if len(pairs):
        pairs, pinv = np.unique(pairs, axis=0, return_inverse=True)
        pair_w = np.bincount(pinv.ravel(), weights=shapely.length(edges[inner]))
    else:
        pairs, pair_w = np.empty((0, 2), dtype=np.int64), np.empty(0)
    if tier_source != "zones":
        rule = np.ones(n, dtype=bool) if tier_source == "rule" else rule_tier
        tier = _smooth_tiers(blocks, tier, rule, bcomm, pairs, pair_w, specs, target_of, metric)
    tier_idx = np.array([ord(x) for x in tier])
    group = _groups(n, pairs, bcomm * 8 + tier_idx)
    graph = build_graph(blocks, pairs)
    ng = group.max() + 1
    g_area = np.bincount(group, weights=graph.area, minlength=ng)
    g_tier = np.empty(ng, dtype=object)
    g_tier[group] = tier
    k = _grid_counts(
        g_area,
        np.array([target_of[x] for x in g_tier]),
        np.array([specs[x].min_area_m2 for x in g_tier]),
        np.array([max(specs[x].max_area_m2, target_of[x] * 1.3) for x in g_tier]),
        cfg.target_count,
        np.bincount(group, minlength=ng),
    )
    grid_of = np.full(n, -1, dtype=np.int64)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(ng + 1))
    members_of = [order[bounds[gi] : bounds[gi + 1]] for gi in range(ng)]
    g_cap = np.array([specs[x].max_diameter_m for x in g_tier])
    g_target = np.array([target_of[x] for x in g_tier])
    group_sets = [
        grids_for_group(graph, members_of[gi], g_cap[gi], g_target[gi], int(k[gi]), cfg.refine_passes)
        for gi in range(ng)
    ]
    if cfg.target_count is None:
        group_sets = rebalance_counts(graph, members_of, g_tier, group_sets, g_cap, cfg.refine_passes)
    next_id = 0
    for sets in group_sets:
        for s in sets:
            grid_of[list(s)] = next_id
            next_id += 1
    if cfg.target_count is not None and next_id != cfg.target_count:
        caps_txt = ", ".join(f"{k} ≤ {v.max_diameter_m:g} m" for k, v in specs.items())
        raise PartitionError(
            f"target_count {cfg.target_count} cannot be met: the patrol diameter limits ({caps_txt}) need "
            f"{next_id} grids here; raise target_count or the limits"
        )
    if cfg.target_count is None and next_id > 1:
        grid_of, tier = merge_small_grids(
            graph,
            grid_of,
            tier,
            bcomm,
            rule_tier if tier_source != "rule" else np.ones(n, dtype=bool),
            shapely.length(blocks),
            pairs,
            pair_w,
            {x: s.max_diameter_m for x, s in specs.items()},
            target_of,
            {x: max(s.max_area_m2, target_of[x] * 1.3) for x, s in specs.items()},
        )
    t = tick("aggregate", t)

    # --- grids
    gid, ggeom = grouped_union(blocks, grid_of, coverage=True)
    parts_n = shapely.get_num_geometries(ggeom)
    if (parts_n != 1).any() or not shapely.is_valid(ggeom).all():
        fixed = np.where(shapely.is_valid(ggeom), ggeom, shapely.make_valid(ggeom))
        gid2, ggeom2 = grouped_union(blocks, grid_of, coverage=False)
        ggeom = np.where((parts_n != 1) | ~shapely.is_valid(ggeom), ggeom2, fixed)
    ggeom = shapely.get_parts(ggeom) if (shapely.get_type_id(ggeom) == 3).all() else ggeom
    first = np.full(len(gid), -1)
    first[grid_of[::-1]] = np.arange(n)[::-1]
    g_comm_idx = bcomm[first]
    g_comm = np.where(
        g_comm_idx >= 0, comm_codes[np.maximum(g_comm_idx, 0)] if len(comm_codes) else "", cfg.community_code
    )
    g_comm = np.array([c if c else cfg.community_code for c in g_comm], dtype=object)
    g_tier_out = tier[first]
    codes = grid_codes(ggeom, g_comm)
    gs = gpd.GeoSeries(ggeom, crs=metric)
    g_area_m2 = shapely.area(ggeom)
    g_diam = diameter_m(gs)
    pp, rk = polsby_popper(ggeom), reock(ggeom)

    # --- borders: sample each grid-border edge once; road share per grid and the internal-border breakdown
    centre = np.concatenate([fs.road_lines, fs.split_lines])
    grid_side = np.where(sides >= 0, grid_of[np.maximum(sides, 0)], -1)
    gb = grid_side[:, 0] != grid_side[:, 1]
    mids, piece, pidx = segment_pieces(edges[gb], STEP_M)
    ps = grid_side[gb][pidx]
    pts = shapely.points(mids)
    near_road = _near(pts, centre, TOL_M)
    glen = np.zeros(len(gid))
    gon = np.zeros(len(gid))
    for col in (0, 1):
        m = ps[:, col] >= 0
        np.add.at(glen, ps[m, col], piece[m])
        np.add.at(gon, ps[m, col], piece[m] * near_road[m])
    rshare = np.where(glen > 0, gon / np.maximum(glen, 1e-12), 0.0)
    t = tick("grids", t)

    internal = (ps[:, 0] >= 0) & (ps[:, 1] >= 0)
    piece, pts, near_road = piece[internal], pts[internal], near_road[internal]
    comm_lines = lines_only(shapely.boundary(comm_polys)) if comm_polys is not None else np.empty(0, dtype=object)
    rest = ~near_road
    near_comm, near_bar, near_minor = (np.zeros(len(pts), dtype=bool) for _ in range(3))
    near_comm[rest] = _near(pts[rest], comm_lines, 1.0)
    near_bar[rest] = _near(pts[rest], barrier_lines, 1.0)
    near_minor[rest] = _near(pts[rest], minor_lines, 1.0)
    total_ib = float(piece.sum())

    def share(mask: np.ndarray) -> float:
        return round(float(piece[mask].sum() / total_ib), 4) if total_ib > 0 else 1.0

    union = shapely.coverage_union_all(ggeom)
    cover = float(shapely.area(shapely.intersection(union, bnd)) / total_area)
    tiers_rep = {}
    for tn in sorted(set(g_tier_out)):
        m = g_tier_out == tn
        tiers_rep[tn] = {
            "grids": int(m.sum()),
            "mean_area_km2": round(float(g_area_m2[m].mean() / 1e6), 4),
            "area_cv": round(area_cv(g_area_m2[m]), 4),
            "max_mean_ratio": round(max_mean_ratio(g_area_m2[m]), 3),
            "max_diameter_m": round(float(g_diam[m].max()), 1),
            "diameter_limit_m": specs[tn].max_diameter_m,
            "polsby_popper_mean": round(float(pp[m].mean()), 4),
            "polsby_popper_min": round(float(pp[m].min()), 4),
            "reock_mean": round(float(rk[m].mean()), 4),
        }
    report = {
        "metric_crs": f"EPSG:{metric.to_epsg()}" if metric.to_epsg() else metric.name,
        "grids": int(len(ggeom)),
        "blocks": int(n),
        "communities": int(len(comm_codes)),
        "tier_source": tier_source,
        "area_km2": round(total_area / 1e6, 4),
        "coverage": round(cover, 6),
        "overlap_m2": round(float(g_area_m2.sum() - shapely.area(union)), 3),
        "outside_m2": round(float(shapely.area(shapely.difference(union, bnd))), 3),
        "tiers": tiers_rep,
        "polsby_popper_mean": round(float(pp.mean()), 4),
        "polsby_popper_min": round(float(pp.min()), 4),
        "reock_mean": round(float(rk.mean()), 4),
        "internal_border": {
            "length_km": round(total_ib / 2000.0, 3),
            "within_15m_of_centerline": share(near_road),
            "on_community_border_only": share(~near_road & near_comm),
            "on_barrier_only": share(~near_road & ~near_comm & near_bar),
            "on_path_only": share(~near_road & ~near_comm & ~near_bar & near_minor),
            "straight_cut": share(~near_road & ~near_comm & ~near_bar & ~near_minor),
        },
        "splits": {"path": int((origin == 1).sum()), "straight": int((origin == 2).sum())},
        "targets": {
            "area_cv_per_tier_le_0.15": all(v["area_cv"] <= 0.15 for v in tiers_rep.values()),
            "polsby_popper_mean_ge_0.35": bool(pp.mean() >= 0.35),
            "polsby_popper_min_ge_0.20": bool(pp.min() >= 0.20),
            "reock_mean_ge_0.45": bool(rk.mean() >= 0.45),
        },
    }

    grids = gpd.GeoDataFrame(
        {
            "code": codes,
            "tier": g_tier_out,
            "community_code": g_comm,
            "area_m2": np.round(g_area_m2, 1),
            "diameter_m": np.round(g_diam, 1),
            "road_share": np.round(rshare, 4),
            "polsby_popper": np.round(pp, 4),
            "reock": np.round(rk, 4),
            "n_blocks": np.bincount(grid_of, minlength=len(gid)),
        },
        geometry=ggeom,
        crs=metric,
    )
    grids = grids.sort_values("code").reset_index(drop=True)
    code_of_grid = np.empty(len(gid), dtype=object)
    code_of_grid[:] = codes
    origin_name = np.array(["face", "path_split", "straight_cut"], dtype=object)[origin]
    b_comm = np.where(bcomm >= 0, comm_codes[np.maximum(bcomm, 0)] if len(comm_codes) else "", cfg.community_code)
    blocks_gdf = gpd.GeoDataFrame(
        {
            "block_id": np.arange(n),
            "grid_code": code_of_grid[grid_of],
            "community_code": [c if c else cfg.community_code for c in b_comm],
            "tier": tier,
            "area_m2": np.round(graph.area, 1),
            "origin": origin_name,
        },
        geometry=blocks,
        crs=metric,
    )
    p0, p1 = first_segment(edges)
    on_road = _near(shapely.points((p0 + p1) / 2.0), centre, 0.01)
    cl = gpd.GeoDataFrame(geometry=edges[on_road], crs=metric)
    report["timings_s"] = {**timings, "total": round(time.perf_counter() - t0, 3)}
    bar.update(1)
    bar.close()
    return PartitionResult(
        grids=grids.to_crs(STORE_SRID),
        blocks=blocks_gdf.to_crs(STORE_SRID),
        report=report,
        centerlines=cl.to_crs(STORE_SRID),
    )
