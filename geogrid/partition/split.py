"""Split blocks too big for their tier: along paths, tracks and rivers first, straight cuts last.

Why: a park, a hill or a campus can be one road-bounded face larger than a tier's patrol diameter allows; no grid
could then hold it. Minor ways inside it are the natural borders; where they do not suffice, the block is cut
across its long axis (through the centroid) until every piece fits.
"""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.geometry import lines_only, polygons_only
from geogrid.metrics.compactness import reock
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import FACE, Blocks, Coverage, exact_coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.inputs import Inputs

PATH_ZONE_M = 10.0
"""A straight cut running within this distance of a path follows the path (costs nothing in the cut choice)."""
MIN_PATH_PIECE = 0.05
"""Path splits that leave a piece below this share of the tier target area are not used."""


def _half_plane(u: np.ndarray, n: np.ndarray, lo: float, t: float, blo: float, bhi: float):
    return shapely.Polygon(
        [(lo - 1) * u + (blo - 1) * n, t * u + (blo - 1) * n, t * u + (bhi + 1) * n, (lo - 1) * u + (bhi + 1) * n]
    )


def _straight_cuts(poly, cap: float, max_area: float, out: list, zone=None, depth: int = 0) -> None:
    """Cut ``poly`` across its long axis, recursively, until each piece fits.

    Among cut positions leaving 30–70 % of the area on each side, the shortest cut wins, with the part running
    within 10 m of a path (``zone``) counted as free: short cuts put the least border off the road network.
    """
    if (diameters(np.array([poly]))[0] <= cap and shapely.area(poly) <= max_area) or depth > 24:
        out.append(poly)
        return
    c = shapely.get_coordinates(shapely.minimum_rotated_rectangle(poly))[:4]
    e1, e2 = c[1] - c[0], c[2] - c[1]
    axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    u = axis / np.hypot(*axis)
    n = np.array([-u[1], u[0]])
    xy = shapely.get_coordinates(poly)
    a_proj, b_proj = xy @ u, xy @ n
    lo, hi, blo, bhi = a_proj.min(), a_proj.max(), b_proj.min(), b_proj.max()
    area = shapely.area(poly)
    ts = lo + (hi - lo) * np.linspace(0.2, 0.8, 25)
    planes = np.array([_half_plane(u, n, lo, t, blo, bhi) for t in ts], dtype=object)
    frac = shapely.area(shapely.intersection(poly, planes)) / area
    cuts = shapely.linestrings([[t * u + (blo - 1) * n, t * u + (bhi + 1) * n] for t in ts])
    inside = shapely.intersection(cuts, poly)
    score = shapely.length(inside)
    if zone is not None:
        score = score - 2.0 * shapely.length(shapely.intersection(inside, zone))
    ok = (frac >= 0.3) & (frac <= 0.7)
    if ok.any():
        score = np.where(ok, score + np.abs(frac - 0.5) * 1e-3, np.inf)
        t = ts[int(np.argmin(score))]
    else:  # very uneven shapes: bisect for the area median
        left, right = lo, hi
        t = (lo + hi) / 2.0
        for _ in range(30):
            a = shapely.area(shapely.intersection(poly, _half_plane(u, n, lo, t, blo, bhi)))
            if abs(a - area / 2) < area * 0.005:
                break
            left, right = (t, right) if a < area / 2 else (left, t)
            t = (left + right) / 2.0
    hp = _half_plane(u, n, lo, t, blo, bhi)
    pieces = polygons_only(np.array([shapely.intersection(poly, hp), shapely.difference(poly, hp)], dtype=object))
    if len(pieces) < 2:
        out.append(poly)
        return
    for p in pieces:
        _straight_cuts(p, cap, max_area, out, zone, depth + 1)


def _inner_paths(tree: shapely.STRtree | None, minor_lines: np.ndarray, poly) -> tuple[np.ndarray, object]:
    """Paths, tracks and rivers inside ``poly``, and the zone around them where a cut counts as following a path."""
    if tree is None:
        return np.empty(0, dtype=object), None
    near = tree.query(poly, predicate="intersects")
    inner = lines_only(shapely.intersection(minor_lines[near], poly)) if len(near) else np.empty(0, dtype=object)
    zone = shapely.buffer(shapely.union_all(inner), PATH_ZONE_M, quad_segs=2) if len(inner) else None
    return inner, zone


def _merge_small(pieces: np.ndarray, min_area: float) -> np.ndarray:
    """Merge pieces below ``min_area`` into the neighbour they share the longest border with (smallest first)."""
    pieces = list(pieces)
    while len(pieces) > 1:
        areas = np.array([p.area for p in pieces])
        i = int(np.argmin(areas))
        if areas[i] >= min_area:
            break
        shared = shapely.length(shapely.intersection(shapely.boundary(pieces[i]), shapely.boundary(np.array(pieces))))
        shared[i] = -1
        j = int(np.argmax(shared))
        if shared[j] <= 0:
            break
        merged = shapely.union(pieces[i], pieces[j])
        pieces = [p for k, p in enumerate(pieces) if k not in (i, j)] + [merged]
    return polygons_only(np.array(pieces, dtype=object))


def split_oversize(
    blocks: np.ndarray,
    caps: np.ndarray,
    max_areas: np.ndarray,
    minor_lines: np.ndarray,
    target_areas: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split every block over its diameter cap or its maximum area.

    Returns (new blocks, index of the source block per new block, kind per new block: 0 kept, 1 path split,
    2 straight cut). Blocks within limits pass unchanged.
    """
    diam = diameters(blocks)
    over = (diam > caps) | (shapely.area(blocks) > max_areas)
    if not over.any():
        return blocks, np.arange(len(blocks)), np.zeros(len(blocks), dtype=np.int8)
    out_geoms = [blocks[~over]]
    out_src = [np.flatnonzero(~over)]
    out_kind = [np.zeros((~over).sum(), dtype=np.int8)]
    tree = shapely.STRtree(minor_lines) if len(minor_lines) else None
    for i in np.flatnonzero(over):
        poly = blocks[i]
        pieces = np.array([poly], dtype=object)
        kind = 2
        inner, zone = _inner_paths(tree, minor_lines, poly)
        if len(inner):
            linework = shapely.get_parts(shapely.union_all(np.concatenate([[shapely.boundary(poly)], inner])))
            cand = polygons_only(shapely.get_parts(shapely.polygonize(linework)))
            cand = cand[shapely.contains_properly(poly, shapely.point_on_surface(cand))]
            cand = _merge_small(cand, MIN_PATH_PIECE * target_areas[i])
            if len(cand) > 1:
                pieces = cand
                kind = 1
        final: list = []
        for p in pieces:
            _straight_cuts(p, caps[i], max_areas[i], final, zone)
        final_arr = np.array(final, dtype=object)
        out_geoms.append(final_arr)
        out_src.append(np.full(len(final_arr), i))
        k = np.full(len(final_arr), kind if len(final_arr) == len(pieces) else 2, dtype=np.int8)
        out_kind.append(k)
    return np.concatenate(out_geoms), np.concatenate(out_src), np.concatenate(out_kind)


LARGE_FACTOR = 1.3
"""Second pass: a block above this multiple of its tier's target area is cut towards the target."""
ELONGATED_REOCK = 0.3
"""Second pass: a block below this Reock score, longer than half its tier's cap, is cut across its long axis."""


def split_large(
    blocks: np.ndarray,
    caps: np.ndarray,
    targets: np.ndarray,
    minor_lines: np.ndarray,
    eligible: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut blocks that fit their tier's limits but are too large or too elongated to aggregate evenly.

    Why: a road-enclosed block under the oversize threshold (2 × the tier's largest grid) can still be twice the
    tier's mean grid, so it becomes a grid on its own and drives the tier's area CV; a long thin block makes a
    grid with a poor Reock score. Cuts run across the long axis, along internal paths where they lie near the
    best cut (``_straight_cuts`` counts path length as free), straight otherwise. Only ``eligible`` blocks
    (untouched faces) are cut, so the path-first oversize split stays as it was. Returns the same triple as
    ``split_oversize`` (kind 2 for cut pieces).
    """
    n = len(blocks)
    keep_all = blocks, np.arange(n), np.zeros(n, dtype=np.int8)
    if n == 0:
        return keep_all
    area = shapely.area(blocks)
    rk = reock(blocks)
    length = 2.0 * shapely.minimum_bounding_radius(blocks)
    large = area > LARGE_FACTOR * targets
    long_ = (rk < ELONGATED_REOCK) & (length > caps / 2.0) & (area >= 0.5 * targets)
    todo = eligible & (large | long_)
    if not todo.any():
        return keep_all
    out_geoms = [blocks[~todo]]
    out_src = [np.flatnonzero(~todo)]
    out_kind = [np.zeros(int((~todo).sum()), dtype=np.int8)]
    tree = shapely.STRtree(minor_lines) if len(minor_lines) else None
    for i in np.flatnonzero(todo):
        poly = blocks[i]
        _, zone = _inner_paths(tree, minor_lines, poly)
        cap = caps[i] / 2.0 if long_[i] else caps[i]
        final: list = []
        _straight_cuts(poly, cap, LARGE_FACTOR * targets[i], final, zone)
        out_geoms.append(np.array(final, dtype=object))
        out_src.append(np.full(len(final), i))
        out_kind.append(np.full(len(final), 2 if len(final) > 1 else 0, dtype=np.int8))
    return np.concatenate(out_geoms), np.concatenate(out_src), np.concatenate(out_kind)


def split_blocks(blocks: Blocks, inp: Inputs, rounds: int = 3) -> tuple[Blocks, Coverage]:
    """Stage 4: split blocks over their tier's limits, then re-node the coverage exactly.

    Re-noding can graft a sliver onto a block, so the caps are checked again on the exact coverage (up to
    ``rounds`` times); the large/elongated pass runs once, on untouched faces only.
    """
    cfg = inp.config
    for it in range(rounds):
        caps, targets, max_areas = _limits(blocks, inp)
        geoms, src, cut = split_oversize(blocks.geoms, caps, max_areas, inp.minor_lines, targets)
        blocks = blocks.with_geoms(geoms, src, cut)
        if it == 0:
            caps, targets, _ = _limits(blocks, inp)
            geoms, src, cut = split_large(blocks.geoms, caps, targets, inp.minor_lines, blocks.origin == FACE)
            blocks = blocks.with_geoms(geoms, src, cut)
        blocks, cov = exact_coverage(blocks)
        caps = np.array([cfg.tiers[t].max_diameter_m for t in blocks.tier])
        if (diameters(blocks.geoms) <= caps).all():
            return blocks, cov
    raise PartitionError("blocks could not be brought under the diameter limits (geometry too degenerate)")


def _limits(blocks: Blocks, inp: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block: the tier's diameter cap, target area, and the area above which a block is always split.

    A block over twice its tier's largest grid area is split too (a campus, a lake): no grid could hold it evenly.
    """
    cfg = inp.config
    caps = np.array([cfg.tiers[t].max_diameter_m for t in blocks.tier])
    targets = np.array([cfg.target_area_of(t, inp.area_m2) for t in blocks.tier])
    highs = np.array([cfg.high_area_of(t, inp.area_m2) for t in blocks.tier])
    return caps, targets, 2.0 * highs
