"""The recursive shortest splitline on a block graph: a group of blocks → k contiguous grids of equal size.

Why this way: a grid must be a contiguous union of whole blocks, of even size and compact. The group is cut in two
by a straight line through the block centroids at the size quantile k₁/k (k₁ = ⌊k/2⌋); among 12 directions the
cut whose halves stay connected and whose shared border is shortest wins, and each half is cut again with k₁ and
k − k₁ grids, down to single grids. This is the shortest-splitline districting algorithm (W. D. Smith, 2005,
rangevoting.org/GerryExamples.html) on blocks instead of people: sizes come out even up to one block, short cuts
give compact grids, and it is a handful of array operations per cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.geometry import components, heaviest_neighbour
from geogrid.metrics.compactness import polsby_popper_ratio

DIRECTIONS = 12
"""Cut directions tried per split (every 15°)."""
_ANGLES = np.linspace(0.0, np.pi, DIRECTIONS, endpoint=False)
UNIT_VECTORS = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)])
BALANCE_TOL = 0.1
"""A split whose size error is within this share of one grid counts as balanced; among those the shortest wins."""
CUT_WEIGHT = 4.0
"""A metre of straight cut (the border two pieces of one cut block share) costs this many metres of road border
when choosing where to split: straight cuts become grid borders only as the last resort."""


@dataclass
class BlockGraph:
    """Blocks as a graph: centroids, sizes (target units), areas, groups, hull vertices, neighbour pairs."""

    xy: np.ndarray
    size: np.ndarray
    area: np.ndarray
    group: np.ndarray
    hull_xy: np.ndarray
    """Convex hull vertices of all blocks, block after block: a union's hull (diameter, bounding circle) is that of
    its blocks' vertices, so unions are measured without dissolving them."""
    hull_start: np.ndarray
    perim: np.ndarray
    pairs: np.ndarray
    pair_w: np.ndarray
    cost_w: np.ndarray
    """Border length of each pair as a splitting cost: ``pair_w``, times ``CUT_WEIGHT`` along a straight cut."""

    @classmethod
    def of(cls, blocks, size: np.ndarray, pairs: np.ndarray, pair_w: np.ndarray):
        """The graph of ``Blocks`` (with their ``parent`` and ``origin``) and their neighbour pairs."""
        geoms = blocks.geoms
        coords, idx = shapely.get_coordinates(shapely.convex_hull(geoms), return_index=True)
        start = np.searchsorted(idx, np.arange(len(geoms) + 1))
        xy = shapely.get_coordinates(shapely.centroid(geoms))
        cut = np.zeros(len(pairs), dtype=bool)
        if blocks.parent is not None and len(pairs):
            i, j = pairs[:, 0], pairs[:, 1]
            cut = (blocks.parent[i] == blocks.parent[j]) & (blocks.origin[i] == 2) & (blocks.origin[j] == 2)
        cost = pair_w * np.where(cut, CUT_WEIGHT, 1.0)
        area, perim = shapely.area(geoms), shapely.length(geoms)
        return cls(xy, size, area, blocks.group, coords, start, perim, pairs, pair_w, cost)

    def restrict(self, members: np.ndarray) -> BlockGraph:
        """The graph of ``members`` alone, renumbered 0..len(members)-1 (one group, 0)."""
        rows = np.concatenate([np.arange(self.hull_start[b], self.hull_start[b + 1]) for b in members])
        counts = self.hull_start[members + 1] - self.hull_start[members]
        start = np.concatenate([[0], np.cumsum(counts)])
        pos = np.full(len(self.xy), -1, dtype=np.int64)
        pos[members] = np.arange(len(members))
        local = pos[self.pairs]
        inside = (local >= 0).all(axis=1)
        m, one_group = members, np.zeros(len(members), dtype=np.int64)
        return BlockGraph(
            self.xy[m], self.size[m], self.area[m], one_group, self.hull_xy[rows], start, self.perim[m],
            local[inside], self.pair_w[inside], self.cost_w[inside],
        )  # fmt: skip

    def polsby_popper(self, grid_of: np.ndarray) -> np.ndarray:
        """Polsby-Popper score of each grid (labels ``grid_of``): perimeter = its blocks' perimeters − 2 × the
        borders shared inside it, so no union is needed."""
        ng = int(grid_of.max()) + 1
        gp = grid_of[self.pairs]
        inside = gp[:, 0] == gp[:, 1]
        perim = np.bincount(grid_of, weights=self.perim, minlength=ng)
        perim -= 2.0 * np.bincount(gp[inside, 0], weights=self.pair_w[inside], minlength=ng)
        return polsby_popper_ratio(np.bincount(grid_of, weights=self.area, minlength=ng), perim)

    def hulls(self, sets: list[np.ndarray]) -> np.ndarray:
        """Convex hull of the union of each set of blocks, in one vectorised call."""
        blocks = np.concatenate(sets)
        owner = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        # the vertex rows of every block of every set, and the set each row belongs to
        counts = self.hull_start[blocks + 1] - self.hull_start[blocks]
        first = np.repeat(np.cumsum(counts) - counts, counts)
        rows = np.repeat(self.hull_start[blocks], counts) + np.arange(counts.sum()) - first
        return shapely.convex_hull(shapely.multipoints(self.hull_xy[rows], indices=np.repeat(owner, counts)))

    def sub(self, members: np.ndarray, cost: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (in local indices 0..len(members)-1) and their border lengths (or costs) restricted to ``members``."""
        pos = np.full(len(self.xy), -1, dtype=np.int64)
        pos[members] = np.arange(len(members))
        local = pos[self.pairs]
        inside = (local >= 0).all(axis=1)
        return local[inside], (self.cost_w if cost else self.pair_w)[inside]


def connect(side: np.ndarray, lp: np.ndarray, lw: np.ndarray) -> np.ndarray:
    """Move detached pieces of either side to the side they border most, until both sides are connected."""
    side = side.astype(np.int64)
    for _ in range(8):
        comp = components(len(side), lp, key=side)
        count = np.bincount(comp).astype(float)
        # the main component of each side is its largest (in blocks); the others are loose
        main = np.zeros(len(count), dtype=bool)
        for s in (0, 1):
            cs = np.unique(comp[side == s])
            if len(cs):
                main[cs[np.argmax(count[cs])]] = True
        loose = ~main[comp]
        if not loose.any():
            break
        # each loose piece joins the side it shares most border with
        cut = comp[lp[:, 0]] != comp[lp[:, 1]]
        a, b = lp[cut, 0], lp[cut, 1]
        src = np.concatenate([comp[a][loose[a]], comp[b][loose[b]]])
        dst = np.concatenate([side[b][loose[a]], side[a][loose[b]]])
        w = np.concatenate([lw[cut][loose[a]], lw[cut][loose[b]]])
        ids, new, _ = heaviest_neighbour(src, dst, w)
        to = np.full(len(count), -1)
        to[ids] = new
        side = np.where(loose & (to[comp] >= 0), to[comp], side)
    return side.astype(bool)


def directional_splits(g: BlockGraph, members: np.ndarray, frac: float):
    """Per direction: the block order along it, cumulative sizes, and the index closest to the ``frac`` quantile."""
    size = g.size[members]
    # project the centroids on every direction; cumulative size along each (n, directions)
    order = np.argsort(g.xy[members] @ UNIT_VECTORS.T, axis=0, kind="stable")
    cum = np.cumsum(size[order], axis=0)
    cut_at = np.clip(np.argmin(np.abs(cum - frac * max(size.sum(), 1e-12)), axis=0) + 1, 1, len(members) - 1)
    # rank of each block along each direction: the first cut_at blocks form the low side
    rank = np.empty_like(order)
    rank[order, np.arange(DIRECTIONS)[None, :]] = np.arange(len(members))[:, None]
    return rank, cum, cut_at


def bisect(g: BlockGraph, members: np.ndarray, frac: float) -> np.ndarray:
    """Boolean mask over ``members``: the side holding ``frac`` of the size, cut along the shortest balanced line."""
    lp, lw = g.sub(members)
    _, cost = g.sub(members, cost=True)
    size = g.size[members]
    total = max(size.sum(), 1e-12)
    want = frac * total
    rank, cum, cut_at = directional_splits(g, members, frac)
    sides = rank < cut_at[None, :]
    # size error in grid units and cut length (border the two sides share), for every direction at once
    grid = total / max(round(1.0 / min(frac, 1.0 - frac)), 1)
    err = np.abs((size[:, None] * sides).sum(0) - want) / grid
    cut = (cost[:, None] * (sides[lp[:, 0]] != sides[lp[:, 1]])).sum(0)
    best = None
    for d in np.lexsort((cut, err > BALANCE_TOL)):
        at = int(cut_at[d])
        for _ in range(4):  # connect the halves, then shift the cut to win back the size the moves cost
            side = connect(rank[:, d] < at, lp, lw)
            miss = size[side].sum() - want
            if best is None or abs(miss) < best[0]:
                best = (abs(miss), side)
            if abs(miss) <= BALANCE_TOL * grid:
                return side
            at = int(np.clip(np.argmin(np.abs(cum[:, d] - (cum[at - 1, d] - miss))) + 1, 1, len(members) - 1))
    return best[1]


def splitline(g: BlockGraph, members: np.ndarray, k: int) -> list[np.ndarray]:
    """Recursive shortest splitline of one group into ``k`` grids (arrays of block indices)."""
    out, stack = [], [(members, k)]
    while stack:
        m, k = stack.pop()
        if k <= 1 or len(m) <= 1:
            out.append(m)
            continue
        k1 = k // 2
        side = bisect(g, m, k1 / k)
        stack += [(m[side], k1), (m[~side], k - k1)]
    return out
