"""Aggregate blocks into grids: k-means seeds, balanced region growing under a diameter cap, then boundary swaps.

Why this way: a grid must be a contiguous union of whole blocks inside one community and tier, with a patrol
diameter under the tier's cap, an area near the target and a compact shape. Per group (a connected set of blocks
of one community and tier):

1. k = round(area / target) seeds: area-weighted k-means on block centroids (deterministic farthest-point start);
2. growing: the grid with the smallest area takes next the unassigned adjacent block nearest its k-means centre,
   unless that would break the diameter cap; blocks no grid can take start new grids;
3. swaps: a boundary block moves to a neighbouring grid when that lowers
   ``8·Σ((A−T)/T)² + 6·Σ a·d²/T²`` (area balance + moment of inertia), keeps the donor contiguous and the
   receiver under the cap;
4. rebalance (``rebalance_counts``): groups with grids far from their tier's realised mean area are regrown with
   k − 1, k or k + 1 grids aiming at that mean.

Python loops here run over blocks of one group with scalar arithmetic; geometry work is done before, in bulk.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.geometry import components
from geogrid.partition.blocks import Blocks, Coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.inputs import Inputs

W_AREA = 8.0
W_INERTIA = 6.0


@dataclass
class BlockGraph:
    xy: np.ndarray  # (n, 2) centroids
    area: np.ndarray  # (n,)
    hull: list  # per block: (m, 2) convex hull vertices
    nbrs: list  # per block: list of neighbour indices (shared edge)


def build_graph(blocks: np.ndarray, pairs: np.ndarray) -> BlockGraph:
    """Centroids, areas, hull vertices and adjacency lists from block polygons and adjacent pairs (i, j)."""
    n = len(blocks)
    xy = shapely.get_coordinates(shapely.centroid(blocks))
    area = shapely.area(blocks)
    hulls = shapely.convex_hull(blocks)
    coords, idx = shapely.get_coordinates(hulls, return_index=True)
    split = np.searchsorted(idx, np.arange(1, n))
    hull = np.split(coords, split)
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for i, j in pairs.tolist():
        nbrs[i].append(j)
        nbrs[j].append(i)
    return BlockGraph(xy, area, hull, nbrs)


def _cross_max(p: np.ndarray, q: np.ndarray) -> float:
    d = p[:, None, :] - q[None, :, :]
    return float(np.sqrt((d * d).sum(-1).max()))


def _hull_pts(pts: np.ndarray) -> np.ndarray:
    if len(pts) <= 3:
        return pts
    h = shapely.convex_hull(shapely.multipoints(pts))
    return shapely.get_coordinates(h)


def _kmeans_seeds(xy: np.ndarray, w: np.ndarray, k: int, iters: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into xy) of k distinct seed blocks near the centres of an area-weighted k-means, and the centres."""
    if k >= len(xy):
        return np.arange(len(xy)), xy.copy()
    c0 = (xy * w[:, None]).sum(0) / w.sum()
    chosen = [int(np.argmax(((xy - c0) ** 2).sum(1)))]
    dmin = ((xy - xy[chosen[0]]) ** 2).sum(1)
    for _ in range(1, k):
        nxt = int(np.argmax(dmin * np.sqrt(w)))
        chosen.append(nxt)
        dmin = np.minimum(dmin, ((xy - xy[nxt]) ** 2).sum(1))
    centres = xy[chosen].copy()
    for _ in range(iters):
        d = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        lab = d.argmin(1)
        for c in range(k):
            m = lab == c
            if m.any():
                centres[c] = (xy[m] * w[m, None]).sum(0) / w[m].sum()
    d = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    seeds: list[int] = []
    taken: set[int] = set()
    for c in range(k):
        for b in np.argsort(d[:, c]).tolist():
            if b not in taken:
                seeds.append(b)
                taken.add(b)
                break
    return np.asarray(seeds), centres


class _Group:
    """Mutable state of the grids of one group."""

    def __init__(self, g: BlockGraph, members: np.ndarray, cap: float, target: float):
        self.g, self.cap, self.target = g, cap, target
        self.members = members
        self.inside = set(members.tolist())
        self.owner: dict[int, int] = {}
        self.blocks: list[set[int]] = []
        self.area: list[float] = []
        self.pts: list[np.ndarray] = []
        self.diam: list[float] = []
        self.centre: list[np.ndarray] = []
        self.moment: list[np.ndarray] = []  # area-weighted sum of centroids
        self.frontier: list[list] = []

    def new_grid(self, b: int, centre: np.ndarray | None = None) -> int:
        k = len(self.blocks)
        a = float(self.g.area[b])
        self.blocks.append({b})
        self.area.append(a)
        self.pts.append(_hull_pts(self.g.hull[b]))
        self.diam.append(_cross_max(self.pts[k], self.pts[k]))
        self.centre.append(self.g.xy[b].copy() if centre is None else centre)
        self.moment.append(self.g.xy[b] * a)
        self.frontier.append([])
        self.owner[b] = k
        self._push_nbrs(k, b)
        return k

    def _push_nbrs(self, k: int, b: int) -> None:
        c = self.centre[k]
        for nb in self.g.nbrs[b]:
            if nb in self.inside and nb not in self.owner:
                d = self.g.xy[nb] - c
                heapq.heappush(self.frontier[k], (float(d @ d), nb))

    def diam_with(self, k: int, b: int) -> float:
        return max(self.diam[k], _cross_max(self.pts[k], self.g.hull[b]))

    def add(self, k: int, b: int, diam: float) -> None:
        a = float(self.g.area[b])
        self.blocks[k].add(b)
        self.area[k] += a
        self.moment[k] = self.moment[k] + self.g.xy[b] * a
        self.pts[k] = _hull_pts(np.vstack([self.pts[k], self.g.hull[b]]))
        self.diam[k] = diam
        self.owner[b] = k

    def remove(self, k: int, b: int) -> None:
        a = float(self.g.area[b])
        self.blocks[k].discard(b)
        self.area[k] -= a
        self.moment[k] = self.moment[k] - self.g.xy[b] * a
        pts = np.vstack([self.g.hull[x] for x in self.blocks[k]])
        self.pts[k] = _hull_pts(pts)
        self.diam[k] = _cross_max(self.pts[k], self.pts[k])

    def grow(self) -> None:
        heap = [(self.area[k], k) for k in range(len(self.blocks))]
        heapq.heapify(heap)
        while heap:
            a, k = heapq.heappop(heap)
            if a != self.area[k]:
                continue
            fr = self.frontier[k]
            while fr:
                _, b = heapq.heappop(fr)
                if b in self.owner:
                    continue
                nd = self.diam_with(k, b)
                if nd > self.cap:
                    continue
                self.add(k, b, nd)
                self._push_nbrs(k, b)
                heapq.heappush(heap, (self.area[k], k))
                break

    def connected_without(self, k: int, b: int) -> bool:
        rest = self.blocks[k] - {b}
        if not rest:
            return False
        start = next(iter(rest))
        seen = {start}
        stack = [start]
        while stack:
            x = stack.pop()
            for nb in self.g.nbrs[x]:
                if nb in rest and nb not in seen:
                    seen.add(nb)
                    stack.append(nb)
        return len(seen) == len(rest)

    def refine(self, passes: int) -> None:
        t = self.target
        for _ in range(passes):
            moved = 0
            for b in self.members.tolist():
                k = self.owner[b]
                if len(self.blocks[k]) == 1:
                    continue
                cands = {self.owner[nb] for nb in self.g.nbrs[b] if nb in self.owner} - {k}
                if not cands:
                    continue
                a = float(self.g.area[b])
                xb = self.g.xy[b]
                ak = self.area[k]
                ck = self.moment[k] / ak
                best, best_h = -1e-9, -1
                for h in cands:
                    ah = self.area[h]
                    ch = self.moment[h] / ah
                    d_area = ((ak - a - t) ** 2 + (ah + a - t) ** 2 - (ak - t) ** 2 - (ah - t) ** 2) / (t * t)
                    dk, dh = xb - ck, xb - ch
                    d_in = a * (float(dh @ dh) - float(dk @ dk)) / (t * t)
                    delta = W_AREA * d_area + W_INERTIA * d_in
                    if delta < best:
                        best, best_h = delta, h
                if best_h < 0:
                    continue
                nd = self.diam_with(best_h, b)
                if nd > self.cap or not self.connected_without(k, b):
                    continue
                self.remove(k, b)
                self.add(best_h, b, nd)
                moved += 1
            if moved == 0:
                break


def _attempt(g: BlockGraph, members: np.ndarray, cap: float, target: float, k: int, passes: int) -> list[set]:
    grp = _Group(g, members, cap, target)
    seed_idx, centres = _kmeans_seeds(g.xy[members], g.area[members], k)
    for s, c in zip(members[seed_idx].tolist(), centres, strict=True):
        grp.new_grid(s, c)
    grp.grow()
    while len(grp.owner) < len(members):
        left = [b for b in members.tolist() if b not in grp.owner]
        grp.new_grid(max(left, key=lambda b: float(g.area[b])))
        grp.grow()
    grp.refine(passes)
    return [s for s in grp.blocks if s]


def grids_for_group(g: BlockGraph, members: np.ndarray, cap: float, target: float, k: int, passes: int) -> list[set]:
    """Sets of block indices, one per grid, covering ``members`` (one community and tier, connected).

    When the diameter cap leaves blocks no seeded grid can take, extra grids appear; the group is then re-seeded
    with that many seeds (up to three times), so the extra grids are placed by k-means instead of squeezed into
    left-over corners. The most even result wins.
    """
    k = max(1, min(k, len(members)))
    best, best_score = None, None
    for _ in range(3):
        sets = _attempt(g, members, cap, target, k, passes)
        areas = np.array([g.area[list(s)].sum() for s in sets])
        score = float(areas.std() / areas.mean()) if len(areas) > 1 else 0.0
        if (
            best is None
            or (len(sets), score) < (len(best), best_score)
            or (len(sets) == len(best) and score < best_score)
        ):
            best, best_score = sets, score
        if len(sets) <= k or len(sets) > len(members):
            break
        k = len(sets)
    return best


def rebalance_counts(
    g: BlockGraph,
    groups: list[np.ndarray],
    g_tier: np.ndarray,
    sets: list[list[set]],
    caps: np.ndarray,
    passes: int,
    rounds: int = 2,
) -> list[list[set]]:
    """Re-run groups whose grids sit far from their tier's realised mean grid area, aiming at that mean.

    Why: k per group and the swap target come from the configured target area, but diameter caps and community
    sizes pull the tier's real mean away from it, so swaps balance towards the wrong size and the tier's area CV
    stays high. Each such group is regrown with k − 1, k, k + 1 grids and the tier mean as target; the result
    with the least squared deviation from the tier mean is kept (the current one when none is better).
    """
    sets = list(sets)
    for _ in range(rounds):
        areas = [np.array([g.area[list(s)].sum() for s in ss]) for ss in sets]
        changed = False
        for t in np.unique(g_tier):
            idx = np.flatnonzero(g_tier == t)
            mean = float(np.concatenate([areas[i] for i in idx]).mean())
            for i in idx.tolist():
                a = areas[i]
                if np.abs(a / mean - 1.0).max() < 0.15:
                    continue
                best = ((a - mean) ** 2).sum()
                for k in {max(1, len(a) - 1), len(a), len(a) + 1}:
                    if k > len(groups[i]):
                        continue
                    new = grids_for_group(g, groups[i], float(caps[i]), mean, k, passes)
                    na = np.array([g.area[list(s)].sum() for s in new])
                    dev = ((na - mean) ** 2).sum()
                    if dev < best * 0.999:
                        best, sets[i], areas[i] = dev, new, na
                        changed = True
        if not changed:
            break
    return sets


@dataclass
class Plan:
    """Blocks and the grid each belongs to (ids 0..k-1)."""

    blocks: Blocks
    grid_of: np.ndarray
    graph: BlockGraph

    @property
    def n_grids(self) -> int:
        return int(self.grid_of.max()) + 1 if len(self.grid_of) else 0


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


def _counts_for_total(areas: np.ndarray, count: int, capacity: np.ndarray) -> np.ndarray:
    """Grids per group when the total is fixed: proportional to area, at least one, at most one per block."""
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


def aggregate(blocks: Blocks, cov: Coverage, inp: Inputs) -> Plan:
    """Stage 5: group blocks by community and tier, and grow each group into balanced, compact grids under the cap."""
    cfg = inp.config
    n = len(blocks)
    names = sorted(cfg.tiers)
    t_idx = np.searchsorted(names, blocks.tier)
    group = components(n, cov.pairs, key=blocks.community * len(names) + t_idx)
    graph = build_graph(blocks.geoms, cov.pairs)
    ng = int(group.max()) + 1
    g_area = np.bincount(group, weights=graph.area, minlength=ng)
    g_tier = np.empty(ng, dtype=object)
    g_tier[group] = blocks.tier
    g_target = np.array([cfg.target_area_of(x, inp.area_m2) for x in g_tier])
    g_cap = np.array([cfg.tiers[x].max_diameter_m for x in g_tier])
    capacity = np.bincount(group, minlength=ng)
    if cfg.target_count is None:
        lows = np.array([cfg.tiers[x].min_area_m2 for x in g_tier])
        highs = np.array([cfg.high_area_of(x, inp.area_m2) for x in g_tier])
        k = _counts_for_balance(g_area, g_target, lows, highs, capacity)
    else:
        k = _counts_for_total(g_area, cfg.target_count, capacity)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(ng + 1))
    members_of = [order[bounds[gi] : bounds[gi + 1]] for gi in range(ng)]
    group_sets = [
        grids_for_group(graph, members_of[gi], g_cap[gi], g_target[gi], int(k[gi]), cfg.refine_passes)
        for gi in range(ng)
    ]
    if cfg.target_count is None:
        group_sets = rebalance_counts(graph, members_of, g_tier, group_sets, g_cap, cfg.refine_passes)
    grid_of = np.full(n, -1, dtype=np.int64)
    next_id = 0
    for sets in group_sets:
        for s in sets:
            grid_of[list(s)] = next_id
            next_id += 1
    if cfg.target_count is not None and next_id != cfg.target_count:
        caps_txt = ", ".join(f"{k} ≤ {v.max_diameter_m:g} m" for k, v in cfg.tiers.items())
        raise PartitionError(
            f"target_count {cfg.target_count} cannot be met: the patrol diameter limits ({caps_txt}) need "
            f"{next_id} grids here; raise target_count or the limits"
        )
    return Plan(blocks, grid_of, graph)
