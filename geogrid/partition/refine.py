"""Local improvement after the splitline: neighbouring grids trade boundary blocks, and re-cut slivers.

Why: the splitline balances each cut inside its own half, so a grid left with one big block cannot be evened out
across the line; its neighbours on the other side can. ``trade`` moves single boundary blocks where that evens
sizes without losing shape or creating straight-cut borders. A grid that still comes out thin (Polsby-Popper below
``RESHAPE_PP``: a strip along a river or a railway) is re-cut together with the neighbour it borders most
(``reshape``): the same two sizes, a rounder pair.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix

from geogrid.metrics.size import diameters
from geogrid.partition.splitline import BlockGraph, bisect

W_BALANCE, W_INERTIA, W_CUT = 8.0, 3.0, 4.0
"""Weights of the trade objective: squared size deviation, moment of inertia (compactness), straight-cut border."""
TRADE_PASSES = 40
RESHAPE_PP = 0.2
"""A grid below this Polsby-Popper score is re-cut with a neighbour."""


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


def reshape(g: BlockGraph, grid_of: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Re-cut each thin grid with a neighbour of its group (most shared border first) when both halves come out
    rounder than the thin one, keep within 10 % of a grid of their sizes, and fit the cap."""
    grid_of = grid_of.copy()
    pp = g.polsby_popper(grid_of)
    i, j = g.pairs[:, 0], g.pairs[:, 1]
    for k in np.flatnonzero(pp < RESHAPE_PP)[np.argsort(pp[pp < RESHAPE_PP])].tolist():
        gi, gj = grid_of[i], grid_of[j]
        cross = (gi != gj) & ((gi == k) | (gj == k)) & (g.group[i] == g.group[j])
        other = np.where(gi[cross] == k, gj[cross], gi[cross])
        shared = np.bincount(other, weights=g.pair_w[cross], minlength=int(grid_of.max()) + 1)
        for h in np.argsort(-shared)[: int((shared > 0).sum())].tolist():
            m = np.flatnonzero((grid_of == k) | (grid_of == h))
            before = g.size[grid_of == k].sum(), g.size[grid_of == h].sum()
            side = bisect(g, m, before[0] / (before[0] + before[1]))
            trial = grid_of.copy()
            trial[m[side]], trial[m[~side]] = k, h
            after = g.polsby_popper(trial)[[k, h]]
            sizes = g.size[m[side]].sum(), g.size[m[~side]].sum()
            if after.min() <= pp[k] + 0.02 or abs(sizes[0] - before[0]) > 0.1 * max(before):
                continue
            if diameters(g.hulls([m[side], m[~side]])).max() > caps[m[0]]:
                continue
            grid_of, pp = trial, g.polsby_popper(trial)
            break
    return grid_of
