"""Local improvement after the splitline: trade boundary blocks for balance, re-split pairs for compactness.

Why: the splitline balances each cut inside its own half, so a grid left with one big block cannot be evened out
across the line, and balance-driven cuts leave some grids wrapped around a neighbour or stretched along the
boundary. Neighbours across the line can fix both: ``trade`` moves single boundary blocks where that evens sizes
without losing shape, ``recombine`` re-cuts the union of two neighbouring grids along the most compact line.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix

from geogrid.metrics.size import diameters
from geogrid.partition.splitline import DIRECTIONS, BlockGraph, connect, directional_splits

W_BALANCE, W_INERTIA, W_CUT = 8.0, 6.0, 4.0
"""Weights of the trade objective: squared size deviation, moment of inertia (compactness), straight-cut border."""
TRADE_PASSES = 40
RECOMBINE_PASSES = 3
RECOMBINE_BELOW = 0.45
"""Pairs of grids whose worse Reock score is below this are re-cut for compactness."""
RECUT_TOL = 0.1
"""A re-cut pair's halves may differ from equal by this share of one grid."""


def _connected_without(rest: set, nbrs: dict) -> bool:
    """True when the block set ``rest`` is non-empty and connected."""
    if not rest:
        return False
    start = next(iter(rest))
    seen, stack = {start}, [start]
    while stack:
        for y in nbrs.get(stack.pop(), ()):
            if y in rest and y not in seen:
                seen.add(y)
                stack.append(y)
    return len(seen) == len(rest)


def _trade_gains(g: BlockGraph, grid_of: np.ndarray, unit: np.ndarray):
    """Every move of a boundary block to a neighbouring grid of its group: (block, from, to, gain), all at once.

    gain = −(W_BALANCE · Δ Σ ((s − u)/u)² + W_INERTIA · Δ Σ a·d²/T² + W_CUT · Δ cut / 4√T), s grid size, u its
    group's grid size, a block area, d its distance to the grid's area centroid, T a grid's area at target, and
    Δ cut the straight-cut border the move creates minus the one it removes.
    """
    ng = int(grid_of.max()) + 1
    first = np.full(ng, -1)
    first[grid_of[::-1]] = np.arange(len(grid_of))[::-1]
    u = unit[g.group[first]]
    s = np.bincount(grid_of, weights=g.size, minlength=ng)
    a = np.bincount(grid_of, weights=g.area, minlength=ng)
    c = np.column_stack([np.bincount(grid_of, weights=g.area * g.xy[:, k], minlength=ng) for k in (0, 1)])
    c /= np.maximum(a, 1e-9)[:, None]
    # candidate moves: across every pair of blocks in different grids of one group, both ways
    i, j = g.pairs[:, 0], g.pairs[:, 1]
    cross = (grid_of[i] != grid_of[j]) & (g.group[i] == g.group[j])
    b = np.concatenate([i[cross], j[cross]])
    src, dst = grid_of[b], np.concatenate([grid_of[j[cross]], grid_of[i[cross]]])
    sb, us, ud = g.size[b], u[src], u[dst]
    d_bal = ((s[src] - sb - us) / us) ** 2 + ((s[dst] + sb - ud) / ud) ** 2
    d_bal -= ((s[src] - us) / us) ** 2 + ((s[dst] - ud) / ud) ** 2
    t_area = a[src] / np.maximum(s[src], 1e-9) * us
    d_in = g.area[b] * (((g.xy[b] - c[dst]) ** 2).sum(1) - ((g.xy[b] - c[src]) ** 2).sum(1)) / t_area**2
    # straight-cut border from each block to each grid (cut pairs only), as a sparse (blocks × grids) matrix
    cut = g.cost_w > g.pair_w
    rows = np.concatenate([i[cut], j[cut]])
    cols = np.concatenate([grid_of[j[cut]], grid_of[i[cut]]])
    to_grid = coo_matrix((np.concatenate([g.pair_w[cut]] * 2), (rows, cols)), shape=(len(grid_of), ng)).tocsr()
    d_cut = np.asarray(to_grid[b, src]).ravel() - np.asarray(to_grid[b, dst]).ravel()
    d_cut = d_cut / (4.0 * np.sqrt(np.maximum(t_area, 1.0)))
    return b, src, dst, -(W_BALANCE * d_bal + W_INERTIA * d_in + W_CUT * d_cut)


def trade(g: BlockGraph, grid_of: np.ndarray, unit: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Move boundary blocks between neighbouring grids where the gain is positive (``_trade_gains``).

    Each pass applies the best moves that keep the donor connected and the receiver under its cap, one move per
    grid per pass, until no move gains or ``TRADE_PASSES`` passes.
    """
    grid_of = grid_of.copy()
    nbrs: dict[int, list[int]] = {}
    for a, b in g.pairs.tolist():
        nbrs.setdefault(a, []).append(b)
        nbrs.setdefault(b, []).append(a)
    for _ in range(TRADE_PASSES):
        b, src, dst, gain = _trade_gains(g, grid_of, unit)
        used, moved = set(), 0
        for k in np.flatnonzero(gain > 1e-6)[np.argsort(-gain[gain > 1e-6], kind="stable")].tolist():
            bk, fs, ts = int(b[k]), int(src[k]), int(dst[k])
            if fs in used or ts in used or grid_of[bk] != fs:
                continue
            if not _connected_without(set(np.flatnonzero(grid_of == fs).tolist()) - {bk}, nbrs):
                continue
            if diameters(g.hulls([np.append(np.flatnonzero(grid_of == ts), bk)]))[0] > caps[bk]:
                continue
            grid_of[bk] = ts
            used.update((fs, ts))
            moved += 1
        if moved == 0:
            break
    return grid_of


def reock_of(hulls: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Reock score of unions of blocks from their hulls and areas (``metrics.compactness.reock``)."""
    return area / (np.pi * np.maximum(shapely.minimum_bounding_radius(hulls), 1e-9) ** 2)


def _halvings(g: BlockGraph, m: np.ndarray) -> list[np.ndarray]:
    """Every connected two-way split of the blocks ``m`` into equal sizes (±``RECUT_TOL`` grid), per direction."""
    lp, lw = g.sub(m)
    half = g.size[m].sum() / 2.0
    rank, _, cut_at = directional_splits(g, m, 0.5)
    out = []
    for d in range(DIRECTIONS):
        side = connect(rank[:, d] < cut_at[d], lp, lw)
        if side.any() and not side.all() and abs(g.size[m][side].sum() - half) <= RECUT_TOL * half:
            out.append(side)
    return out


def _reock_bound(g: BlockGraph, m: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """(2, n) lower bounds of the Reock score of both halves of each split, from block centroids and radii.

    The circle around a half's area centroid reaching every block's bounding circle contains the half, so its
    radius bounds the minimum bounding circle's from above: a cheap score to rank splits before measuring one.
    """
    area, xy, rad = g.area[m], g.xy[m], g.radius[m]
    out = []
    for sd in (sides, ~sides):
        w = area[:, None] * sd
        a = np.maximum(w.sum(0), 1e-9)
        cx, cy = (w * xy[:, :1]).sum(0) / a, (w * xy[:, 1:]).sum(0) / a
        r = np.where(sd, np.hypot(xy[:, :1] - cx, xy[:, 1:] - cy) + rad[:, None], 0.0).max(0)
        out.append(a / (np.pi * np.maximum(r, 1e-9) ** 2))
    return np.array(out)


def _best_recut(g: BlockGraph, m: np.ndarray, cap: float, pp_floor: float) -> tuple[np.ndarray | None, float]:
    """The halving of ``m`` whose worse half is most compact, and that half's Reock.

    Both halves must fit the cap and keep a Polsby-Popper score of at least ``pp_floor`` (Reock alone misses a
    ragged outline).
    """
    sides = _halvings(g, m)
    if not sides:
        return None, -1.0
    bound = _reock_bound(g, m, np.column_stack(sides)).min(0)
    for k in np.argsort(-bound)[:3].tolist():  # measure the three most promising exactly
        halves = [m[sides[k]], m[~sides[k]]]
        hulls = g.hulls(halves)
        if diameters(hulls).max() <= cap and g.polsby_popper(halves).min() >= pp_floor:
            return sides[k], float(reock_of(hulls, np.array([g.area[h].sum() for h in halves])).min())
    return None, -1.0


def recombine(g: BlockGraph, grid_of: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Re-cut pairs of neighbouring grids (one group) where a halving makes the worse of the two more compact.

    Each pass visits the pairs worst first (by the lower Reock of the two), each grid at most once.
    """
    grid_of = grid_of.copy()
    for _ in range(RECOMBINE_PASSES):
        ng = int(grid_of.max()) + 1
        members = [np.flatnonzero(grid_of == k) for k in range(ng)]
        rk = reock_of(g.hulls(members), np.bincount(grid_of, weights=g.area, minlength=ng))
        # neighbouring grid pairs of one group, worst first
        gi, gj = grid_of[g.pairs[:, 0]], grid_of[g.pairs[:, 1]]
        cross = (gi != gj) & (g.group[g.pairs[:, 0]] == g.group[g.pairs[:, 1]])
        pairs = np.unique(np.sort(np.column_stack([gi[cross], gj[cross]]), axis=1), axis=0)
        worse = np.minimum(rk[pairs[:, 0]], rk[pairs[:, 1]])
        used, changed = set(), 0
        for a, b in pairs[np.argsort(worse)][np.sort(worse) < RECOMBINE_BELOW].tolist():
            if a in used or b in used:
                continue
            m = np.concatenate([members[a], members[b]])
            side, score = _best_recut(g, m, caps[m[0]], float(g.polsby_popper([members[a], members[b]]).min()))
            if side is None or score <= min(rk[a], rk[b]) + 0.01:
                continue
            grid_of[m[side]], grid_of[m[~side]] = a, b
            used.update((a, b))
            changed += 1
        if not changed:
            break
    return grid_of
