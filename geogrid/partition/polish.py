"""Stage 8, ``polish``: small grids fold into a neighbour, then neighbouring grids of one tier and community swap
boundary blocks, for balance and shape.

Why after merging: the splitline and its trades balance each group against its own planned grid size, and the
merge stage then folds small and thin grids into neighbours, so a tier ends with grids of uneven size (the area CV
per tier) and with bulges and arms (a low Reock score: area over the area of the smallest enclosing circle). Big
blocks can leave a grid far below its tier's mean that no swap can grow: it joins the neighbour (of its community;
of another tier only where the density rule set the tier) that leaves the tiers' sizes most even (``_absorb``).
Then moving one boundary block at a time from a grid to a neighbour of the same tier and community fixes the rest
without touching a guarantee: blocks stay whole (every border stays where it was: on a road centreline, a community
border or a barrier), a move never adds straight-cut border, never crosses a community or a tier, keeps the donor
connected, the receiver under its patrol diameter and both above the Polsby-Popper floor.

Each pass scores every candidate move at once (arrays), then applies the best ones, one per grid, so the gains add
up exactly: Δ Σ Reock − w · Δ Σ ((s − μ)/μ)² (s a grid's size, μ its tier's mean; Σ ((s − μ)/μ)² = n · CV²).
Balance is a budget: a move may make sizes less even only while its tier's CV stays within ``CV_MAX``, and a tier
above it weighs balance ``W_OVER`` times against shape. The smallest enclosing circle of a union is that of its
blocks' hull vertices, so no grid is dissolved; a donor's circle changes only when the block leaving it touches
that circle, and circles of unchanged grids are kept from pass to pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely
from scipy.sparse import coo_matrix

from geogrid.metrics.compactness import polsby_popper_ratio, reock_ratio
from geogrid.metrics.size import diameters
from geogrid.partition.aggregate import Plan
from geogrid.partition.blocks import Coverage
from geogrid.partition.inputs import Inputs
from geogrid.partition.merge import tier_scales
from geogrid.partition.splitline import BlockGraph

POLISH_PASSES = 40
"""At most this many passes (each applies at most one move per grid)."""
CV_MAX = 0.18
"""Balance is a budget: a move may make sizes less even only while its tier's size CV stays at or below this."""
W_OVER, W_UNDER = 4.0, 0.5
"""Weight of Σ ((s − μ)/μ)² against Σ Reock in a move's gain, in a tier above ``CV_MAX`` and in one within it."""
PP_FLOOR = 0.2
"""A move never takes a grid's Polsby-Popper score below this (or below its own score, if already lower)."""
ABSORB = 0.4
"""A grid below this share of its tier's mean size is folded into a neighbour of its tier and community when that
makes the tier's sizes more even (big blocks can leave one small grid no swap can grow)."""
_CIRCLE_TOL = 1e-6
"""Relative tolerance for a hull vertex lying on a grid's enclosing circle."""


@dataclass
class _Shape:
    """Per-grid sums and enclosing circles for one pass."""

    size: np.ndarray
    area: np.ndarray
    perim: np.ndarray
    hull_xy: np.ndarray
    hull_start: np.ndarray
    centre: np.ndarray
    radius: np.ndarray
    mean: np.ndarray
    """Mean size of each grid's tier (constant through the stage: moves stay inside one tier)."""


def _circles(g: BlockGraph, grid_of: np.ndarray, ctx: _Context, dirty: np.ndarray) -> None:
    """Hulls and enclosing circles of the ``dirty`` grids, into ``ctx`` (the others are unchanged since computed)."""
    ids = np.flatnonzero(dirty)
    sel = np.flatnonzero(dirty[grid_of])
    order = sel[np.argsort(grid_of[sel], kind="stable")]
    rows, owner = _rows(g.hull_start, order)
    # a line string through a grid's blocks' hull vertices: the same hull, cheaper to build than a multipoint
    local = np.searchsorted(ids, grid_of[order])[owner]
    hulls = shapely.convex_hull(shapely.linestrings(g.hull_xy[rows], indices=local))
    ctx.hulls[ids] = hulls
    ctx.centre[ids] = shapely.get_coordinates(shapely.centroid(shapely.minimum_bounding_circle(hulls)))
    ctx.radius[ids] = shapely.minimum_bounding_radius(hulls)


def _shape(g: BlockGraph, grid_of: np.ndarray, ctx: _Context, dirty: np.ndarray) -> _Shape:
    """Sizes, areas, perimeters (blocks' perimeters − 2 × inner borders), hulls and enclosing circles per grid."""
    ng = len(ctx.tier_key)
    gp = grid_of[g.pairs]
    inside = gp[:, 0] == gp[:, 1]
    perim = np.bincount(grid_of, weights=g.perim, minlength=ng)
    perim -= 2.0 * np.bincount(gp[inside, 0], weights=g.pair_w[inside], minlength=ng)
    _circles(g, grid_of, ctx, dirty)
    xy, idx = shapely.get_coordinates(ctx.hulls, return_index=True)
    size = np.bincount(grid_of, weights=g.size, minlength=ng)
    inv = ctx.tier_key
    mean = (np.bincount(inv, weights=size) / np.bincount(inv))[inv]
    return _Shape(
        size=size,
        area=np.bincount(grid_of, weights=g.area, minlength=ng),
        perim=perim,
        hull_xy=xy,
        hull_start=np.searchsorted(idx, np.arange(ng + 1)),
        centre=ctx.centre,
        radius=ctx.radius,
        mean=mean,
    )


def _rows(start: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the vertex runs ``start[i]:start[i+1]`` for each of ``ids``, and which id each row is for."""
    counts = start[ids + 1] - start[ids]
    first = np.repeat(np.cumsum(counts) - counts, counts)
    rows = np.repeat(start[ids], counts) + np.arange(counts.sum()) - first
    return rows, np.repeat(np.arange(len(ids)), counts)


class _RadiusCache:
    """Enclosing-circle radii of (block, grid) unions from earlier passes, valid while the grid is unchanged."""

    def __init__(self):
        self.keys, self.vals = np.empty(0, dtype=np.int64), np.empty(0)

    def get(self, keys: np.ndarray, clean: np.ndarray, compute) -> np.ndarray:
        """Cached radii for ``keys`` where ``clean``; ``compute(mask)`` gives the rest, which are then stored."""
        pos = np.clip(np.searchsorted(self.keys, keys), 0, max(len(self.keys) - 1, 0))
        hit = clean & (self.keys[pos] == keys) if len(self.keys) else np.zeros(len(keys), dtype=bool)
        out = np.empty(len(keys))
        out[hit] = self.vals[pos[hit]]
        if (~hit).any():
            out[~hit] = compute(~hit)
        order = np.argsort(keys)
        self.keys, self.vals = keys[order], out[order]
        return out


def _radius(xy: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Enclosing-circle radius of each point set (rows of ``xy`` grouped by ``owner``, sorted, 0..n-1)."""
    if n == 0:
        return np.empty(0)
    # a line string through the points has the same enclosing circle and is cheaper to build than a multipoint
    return shapely.minimum_bounding_radius(shapely.linestrings(xy, indices=owner))


def _radius_with(g: BlockGraph, sh: _Shape, b: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Enclosing-circle radius of grid ``dst`` with block ``b`` added, per candidate."""
    rg, og = _rows(sh.hull_start, dst)
    rb, ob = _rows(g.hull_start, b)
    owner = np.concatenate([og, ob])
    order = np.argsort(owner, kind="stable")
    xy = np.concatenate([sh.hull_xy[rg], g.hull_xy[rb]])[order]
    return _radius(xy, owner[order], len(b))


def _radius_without(g: BlockGraph, sh: _Shape, grid_of: np.ndarray, b: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Enclosing-circle radius of grid ``src`` without block ``b``: unchanged unless ``b`` touches the circle."""
    out = sh.radius[src].copy()
    rb, ob = _rows(g.hull_start, b)
    dist = np.linalg.norm(g.hull_xy[rb] - sh.centre[src[ob]], axis=1)
    touches = np.zeros(len(b), dtype=bool)
    np.logical_or.at(touches, ob, dist >= sh.radius[src[ob]] * (1.0 - _CIRCLE_TOL) - 1e-6)
    c = np.flatnonzero(touches)
    # the hull vertices of every other block of the donor, for each touching candidate
    order = np.argsort(grid_of, kind="stable")
    start = np.searchsorted(grid_of[order], np.arange(len(sh.size) + 1))
    rows, owner = _rows(start, src[c])
    blocks = order[rows]
    other = blocks != b[c][owner]
    vrows, vowner = _rows(g.hull_start, blocks[other])
    out[c] = _radius(g.hull_xy[vrows], owner[other][vowner], len(c))
    return out


@dataclass
class _Context:
    """What stays fixed through the stage: the block graph, each grid's tier, community and cap, block neighbours."""

    g: BlockGraph
    tier_key: np.ndarray
    comm: np.ndarray
    caps: np.ndarray
    nbrs: dict
    budget: np.ndarray
    """Per tier: the most Σ ((s − μ)/μ)² may reach by a move that makes sizes less even (n · ``CV_MAX``²)."""
    with_cache: _RadiusCache
    without_cache: _RadiusCache
    hulls: np.ndarray
    """Per grid, kept from pass to pass and recomputed for the grids a pass changed: hull, circle centre, radius."""
    centre: np.ndarray
    radius: np.ndarray


def _candidates(ctx: _Context, grid_of: np.ndarray):
    """Boundary blocks and the neighbouring grids (same tier and community) they could move to; a grid's last block
    stays. Also the border of each block with each grid, all and straight-cut only, as (blocks × grids) matrices."""
    g, ng = ctx.g, len(ctx.tier_key)
    i, j = g.pairs[:, 0], g.pairs[:, 1]
    gi, gj = grid_of[i], grid_of[j]
    ok = (gi != gj) & (ctx.tier_key[gi] == ctx.tier_key[gj]) & (ctx.comm[gi] == ctx.comm[gj])
    cand = np.unique(np.column_stack([np.r_[i[ok], j[ok]], np.r_[gj[ok], gi[ok]]]), axis=0)
    b, dst = cand[:, 0], cand[:, 1]
    many = np.bincount(grid_of, minlength=ng)[grid_of[b]] > 1
    b, dst = b[many], dst[many]

    def to_grid(sel):
        w = np.r_[g.pair_w[sel], g.pair_w[sel]]
        return coo_matrix((w, (np.r_[i[sel], j[sel]], np.r_[gj[sel], gi[sel]])), shape=(len(grid_of), ng)).tocsr()

    return b, grid_of[b], dst, to_grid(np.ones(len(i), dtype=bool)), to_grid(g.cost_w > g.pair_w)


@dataclass
class _Moves:
    """Candidate moves: block ``b`` from grid ``src`` to grid ``dst``, the gain, and the change of Σ ((s − μ)/μ)²."""

    b: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    gain: np.ndarray
    d_bal: np.ndarray


def _moves(ctx: _Context, grid_of: np.ndarray, dirty: np.ndarray) -> tuple[_Moves, np.ndarray]:
    """Every allowed move with its gain, Δ Σ Reock − w · Δ Σ ((s − μ)/μ)², and each tier's Σ ((s − μ)/μ)² now
    (``dirty``: grids changed since the cached radii were computed)."""
    g, ng = ctx.g, len(ctx.tier_key)
    sh = _shape(g, grid_of, ctx, dirty)
    b, src, dst, every, cut = _candidates(ctx, grid_of)
    if len(b) == 0:
        return _Moves(b, src, dst, np.empty(0), np.empty(0)), np.zeros(len(ctx.budget))
    w_src, w_dst = np.asarray(every[b, src]).ravel(), np.asarray(every[b, dst]).ravel()
    keep = np.asarray(cut[b, src]).ravel() <= np.asarray(cut[b, dst]).ravel() + 1e-6  # no new straight-cut border
    a_src, a_dst = sh.area[src] - g.area[b], sh.area[dst] + g.area[b]
    p_src, p_dst = sh.perim[src] - g.perim[b] + 2 * w_src, sh.perim[dst] + g.perim[b] - 2 * w_dst
    pp_old = polsby_popper_ratio(sh.area, sh.perim)
    for a_new, p_new, k in ((a_src, p_src, src), (a_dst, p_dst, dst)):
        keep &= polsby_popper_ratio(a_new, p_new) >= np.minimum(PP_FLOOR, pp_old[k]) - 1e-9
    b, src, dst, a_src, a_dst = b[keep], src[keep], dst[keep], a_src[keep], a_dst[keep]
    s_b, mu = g.size[b], sh.mean[src]
    d_bal = ((sh.size[src] - s_b - mu) ** 2 + (sh.size[dst] + s_b - mu) ** 2) / mu**2
    d_bal -= ((sh.size[src] - mu) ** 2 + (sh.size[dst] - mu) ** 2) / mu**2
    r_src = ctx.without_cache.get(b * ng + src, ~dirty[src], lambda m: _radius_without(g, sh, grid_of, b[m], src[m]))
    r_dst = ctx.with_cache.get(b * ng + dst, ~dirty[dst], lambda m: _radius_with(g, sh, b[m], dst[m]))
    r_old = reock_ratio(sh.area, sh.radius)
    d_reock = reock_ratio(a_src, r_src) + reock_ratio(a_dst, r_dst) - r_old[src] - r_old[dst]
    spent = np.bincount(ctx.tier_key, weights=((sh.size - sh.mean) / sh.mean) ** 2)
    w_bal = np.where(spent > ctx.budget, W_OVER, W_UNDER)[ctx.tier_key[src]]
    return _Moves(b, src, dst, d_reock - w_bal * d_bal, d_bal), spent


def _connected(rest: np.ndarray, nbrs: dict) -> bool:
    """True when the block set ``rest`` is non-empty and connected."""
    if not len(rest):
        return False
    todo, start = set(rest.tolist()), int(rest[0])
    seen, stack = {start}, [start]
    while stack:
        for y in nbrs.get(stack.pop(), ()):
            if y in todo and y not in seen:
                seen.add(y)
                stack.append(y)
    return len(seen) == len(todo)


def polish(plan: Plan, cov: Coverage, inp: Inputs, sizer=None) -> Plan:
    """Fold grids far below their tier's mean into a neighbour, then swap boundary blocks between neighbouring grids
    of one tier and community while it evens sizes and rounds shapes (see the module docstring).

    ``sizer`` (``sizes.Sizer``) converts sizes when a small grid joins a neighbour of another tier.
    """
    if plan.n_grids <= 1 or len(cov.pairs) == 0:
        return plan
    caps = {t: s.max_diameter_m for t, s in inp.config.tiers.items()}
    if inp.config.target_count is None:  # a promised grid count is kept
        plan = _absorb(plan, cov, inp, sizer)
    b, grid_of = plan.blocks, plan.grid_of.copy()
    g = BlockGraph.of(b, plan.size, cov.pairs, cov.pair_w)
    ctx = _context(g, grid_of, b, caps)
    dirty = np.ones(len(ctx.tier_key), dtype=bool)
    for _ in range(POLISH_PASSES):
        used = _apply(ctx, grid_of, *_moves(ctx, grid_of, dirty))
        if not used:
            break
        dirty[:] = False
        dirty[list(used)] = True
    return replace(plan, grid_of=grid_of)


def _first(grid_of: np.ndarray) -> np.ndarray:
    """One block of each grid (grid ids 0..k-1)."""
    first = np.full(int(grid_of.max()) + 1, -1)
    first[grid_of[::-1]] = np.arange(len(grid_of))[::-1]
    return first


def _context(g: BlockGraph, grid_of: np.ndarray, b, caps: dict) -> _Context:
    first = _first(grid_of)
    tier_key = np.unique(b.tier[first].astype(str), return_inverse=True)[1]
    nbrs: dict[int, list[int]] = {}
    for x, y in g.pairs.tolist():
        nbrs.setdefault(x, []).append(y)
        nbrs.setdefault(y, []).append(x)
    cap = np.array([caps[t] for t in b.tier[first]])
    budget = np.bincount(tier_key) * CV_MAX**2
    ng = len(first)
    return _Context(
        g, tier_key, b.community[first], cap, nbrs, budget, _RadiusCache(), _RadiusCache(),
        np.empty(ng, dtype=object), np.zeros((ng, 2)), np.zeros(ng),
    )  # fmt: skip


def _spread(size: np.ndarray, tier: np.ndarray, tiers: tuple) -> float:
    """Σ over ``tiers`` of Σ ((s − μ)/μ)² of their live grids' sizes (n · CV² per tier)."""
    out = 0.0
    for t in tiers:
        s = size[(tier == t) & (size > 0)]
        out += float((((s - s.mean()) / s.mean()) ** 2).sum()) if len(s) else 0.0
    return out


def _absorb(plan: Plan, cov: Coverage, inp: Inputs, sizer) -> Plan:
    """Fold each grid below ``ABSORB`` × its tier's mean into the neighbour of its community that leaves the tiers'
    sizes most even, if the union fits the receiver's size range and cap, keeps Polsby-Popper ≥ the floor, and (for
    a neighbour of another tier, only where the density rule set the tier) leaves no grid without one of its tier.
    Grid ids are renumbered after."""
    b, grid_of = plan.blocks, plan.grid_of.copy()
    g = BlockGraph.of(b, plan.size.copy(), cov.pairs, cov.pair_w)
    tier, comm = b.tier[_first(grid_of)].copy(), b.community[_first(grid_of)]
    rule = np.ones(len(tier), dtype=bool)
    np.logical_and.at(rule, grid_of, b.rule_tier)
    scale, area_scale = tier_scales(sizer, b.tier, by_weight=True), tier_scales(sizer, b.tier, by_weight=False)
    high = {t: inp.config.high_ratio(t) for t in inp.config.tiers}
    size, area_size, block_tier = np.bincount(grid_of, weights=g.size), plan.area_size.copy(), b.tier.copy()
    for k in np.argsort(size).tolist():
        if size[k] <= 0 or size[k] >= ABSORB * size[(tier == tier[k]) & (size > 0)].mean():
            continue
        gi, gj = grid_of[g.pairs[:, 0]], grid_of[g.pairs[:, 1]]
        h = _receiver(g, grid_of, k, (gi, gj), (size, tier, comm, rule), scale, high, inp)
        if h < 0:
            continue
        m = grid_of == k
        g.size[m] *= scale[tier[k]] / scale[tier[h]]
        area_size[m] *= area_scale[tier[k]] / area_scale[tier[h]]
        block_tier[m] = tier[h]
        size[h], size[k] = size[h] + g.size[m].sum(), 0.0
        grid_of[m] = h
    grid_of = np.unique(grid_of, return_inverse=True)[1]
    return Plan(replace(b, tier=block_tier), grid_of, g.size, area_size)


def _receiver(g: BlockGraph, grid_of: np.ndarray, k: int, gg, state, scale: dict, high: dict, inp: Inputs) -> int:
    """The neighbour small grid ``k`` joins best (see ``_absorb``), or -1."""
    gi, gj = gg
    size, tier, comm, rule = state
    nb = np.unique(np.r_[gj[gi == k], gi[gj == k]])
    nb = nb[(nb != k) & (size[nb] > 0) & (comm[nb] == comm[k]) & ((tier[nb] == tier[k]) | rule[k])]
    best, best_h = None, -1
    for h in nb.tolist():
        trial = size.copy()
        trial[h], trial[k] = size[h] + size[k] * scale[tier[k]] / scale[tier[h]], 0.0
        if trial[h] > high[tier[h]]:
            continue
        touched = tuple({tier[k], tier[h]})
        gain = _spread(trial, tier, touched) - _spread(size, tier, touched)
        if gain >= 0 or (best is not None and gain >= best):
            continue
        trial_of = np.where(grid_of == k, h, grid_of)
        if g.polsby_popper(trial_of)[h] < PP_FLOOR:
            continue
        if tier[h] != tier[k] and _strands(trial_of, gg, k, tier):
            continue
        if diameters(g.hulls([np.flatnonzero(trial_of == h)]))[0] <= inp.config.tiers[tier[h]].max_diameter_m:
            best, best_h = gain, h
    return best_h


def _strands(trial_of: np.ndarray, gg, k: int, tier: np.ndarray) -> bool:
    """True when a neighbour of ``k`` of ``k``'s tier would have no neighbour of its tier left once ``k`` goes."""
    gi, gj = gg
    live = (gi != gj) & (gi != k) & (gj != k)
    nb = np.unique(np.r_[gj[gi == k], gi[gj == k]])
    for x in nb[(nb != k) & (tier[nb] == tier[k])].tolist():
        others = np.r_[gj[live & (gi == x)], gi[live & (gj == x)]]
        if not (tier[others] == tier[x]).any():
            return True
    return False


def _apply(ctx: _Context, grid_of: np.ndarray, mv: _Moves, spent: np.ndarray) -> set:
    """Apply the best moves, one per grid, that keep the donor connected, the receiver under its cap and the tier
    within its balance budget (in place); the grids changed."""
    used: set = set()
    for k in np.flatnonzero(mv.gain > 1e-6)[np.argsort(-mv.gain[mv.gain > 1e-6], kind="stable")].tolist():
        bk, fs, ts, t = int(mv.b[k]), int(mv.src[k]), int(mv.dst[k]), ctx.tier_key[mv.src[k]]
        if fs in used or ts in used or (mv.d_bal[k] > 0 and spent[t] + mv.d_bal[k] > ctx.budget[t]):
            continue
        if not _connected(np.flatnonzero((grid_of == fs) & (np.arange(len(grid_of)) != bk)), ctx.nbrs):
            continue
        if diameters(ctx.g.hulls([np.append(np.flatnonzero(grid_of == ts), bk)]))[0] > ctx.caps[ts]:
            continue
        grid_of[bk] = ts
        spent[t] += mv.d_bal[k]
        used.update((fs, ts))
    return used
