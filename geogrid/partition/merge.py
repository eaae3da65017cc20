"""Fold undersized or sliver grids into a neighbouring grid of the same community.

Why: a group (one community and tier) smaller than its tier's target, or a single long block along a river,
becomes a grid far below the target area or with a Polsby-Popper score near zero. Merging it into the neighbour
it shares most border with fixes both, provided the union stays under the receiver tier's patrol diameter and
does not overshoot the receiver's area range. Only tiers from the density rule may change (a planner's tier zone
is kept).

Perimeters come from block perimeters minus twice the shared block edges, so a merge's Polsby-Popper score is
known without a geometry union; the loop runs over the few candidate grids only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely

from geogrid.metrics.compactness import polsby_popper_ratio
from geogrid.partition.aggregate import BlockGraph, Plan, _cross_max, _hull_pts
from geogrid.partition.blocks import Coverage
from geogrid.partition.inputs import Inputs

SMALL = 0.5
"""A grid below this share of its tier's target area is a merge candidate."""
SLIVER_PP = 0.2
"""A grid below this Polsby-Popper score is a merge candidate."""


def merge_small_grids(
    g: BlockGraph,
    grid_of: np.ndarray,
    tier: np.ndarray,
    comm: np.ndarray,
    may_retier: np.ndarray,
    perim: np.ndarray,
    pairs: np.ndarray,
    pair_w: np.ndarray,
    caps: dict[str, float],
    targets: dict[str, float],
    his: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """New (grid_of, tier) after merging candidates; grid ids are renumbered 0..k-1."""
    grid_of, tier = grid_of.copy(), tier.copy()
    ng = int(grid_of.max()) + 1
    first = np.full(ng, -1)
    first[grid_of[::-1]] = np.arange(len(grid_of))[::-1]
    g_tier = tier[first].copy()
    g_comm = comm[first]
    g_area = np.bincount(grid_of, weights=g.area, minlength=ng)
    gp = grid_of[pairs] if len(pairs) else np.empty((0, 2), dtype=np.int64)
    same = gp[:, 0] == gp[:, 1]
    g_perim = np.bincount(grid_of, weights=perim, minlength=ng)
    g_perim -= 2.0 * np.bincount(gp[same, 0], weights=pair_w[same], minlength=ng)
    shared: list[dict[int, float]] = [{} for _ in range(ng)]
    for (a, b), w in zip(gp[~same].tolist(), pair_w[~same].tolist(), strict=True):
        shared[a][b] = shared[a].get(b, 0.0) + w
        shared[b][a] = shared[b].get(a, 0.0) + w
    g_retier = np.ones(ng, dtype=bool)
    np.logical_and.at(g_retier, grid_of, may_retier)
    order = np.argsort(grid_of, kind="stable")
    members: list[list[int]] = [m.tolist() for m in np.split(order, np.cumsum(np.bincount(grid_of, minlength=ng))[:-1])]
    owner = np.arange(ng)  # the grid each original grid has been folded into
    pts = [None] * ng
    alive = np.ones(ng, dtype=bool)

    def hull(k: int) -> np.ndarray:
        if pts[k] is None:
            pts[k] = _hull_pts(np.vstack([g.hull[b] for b in members[k]]))
        return pts[k]

    # deviations are measured from each tier's median grid area: the tier's CV is relative to its own mean
    ref = {t: float(np.median(g_area[g_tier == t])) if (g_tier == t).any() else targets[t] for t in targets}
    tgt = np.array([targets[t] for t in g_tier])
    pp0 = polsby_popper_ratio(g_area, g_perim)
    cand = np.flatnonzero((g_area < SMALL * tgt) | (pp0 < SLIVER_PP))
    for k in cand[np.argsort(g_area[cand])].tolist():
        if not alive[k]:
            continue
        ak, pk = g_area[k], g_perim[k]
        best, best_h = None, -1
        for h, w in shared[k].items():
            if not alive[h] or g_comm[h] != g_comm[k]:
                continue
            th = g_tier[h]
            if th != g_tier[k] and not g_retier[k]:
                continue
            au = ak + g_area[h]
            if au > (his[th] if pp0[k] < SLIVER_PP else min(his[th], 1.3 * ref[th])):
                continue
            pu = float(polsby_popper_ratio(au, pk + g_perim[h] - 2.0 * w))
            th_t, tk_t = ref[th], ref[g_tier[k]]
            # area balance: the two grids' squared relative deviations before vs the union's after
            before = ((ak - tk_t) / tk_t) ** 2 + ((g_area[h] - th_t) / th_t) ** 2
            after = ((au - th_t) / th_t) ** 2
            pp_before = min(pp0[k], pp0[h])
            if after > before and pu <= pp_before:
                continue
            ph = np.vstack([hull(k), hull(h)])
            if _cross_max(ph, ph) > caps[th]:
                continue
            score = (after - before) - pu
            if best is None or score < best:
                best, best_h = score, h
        if best_h < 0:
            continue
        h = best_h
        members[h].extend(members[k])
        members[k] = []
        owner[owner == k] = h
        alive[k] = False
        pts[h] = None
        g_area[h] += ak
        g_perim[h] = g_perim[h] + pk - 2.0 * shared[k][h]
        pp0[h] = polsby_popper_ratio(g_area[h], g_perim[h])
        g_retier[h] = g_retier[h] and g_retier[k]
        for x, w in shared[k].items():
            if x == h:
                continue
            shared[h][x] = shared[h].get(x, 0.0) + w
            shared[x][h] = shared[x].get(h, 0.0) + w
            shared[x].pop(k, None)
        shared[h].pop(k, None)
        shared[k] = {}
    grid_of = owner[grid_of]
    tier = np.asarray(g_tier)[grid_of]
    _, grid_of = np.unique(grid_of, return_inverse=True)
    return grid_of, tier


def merge_grids(plan: Plan, cov: Coverage, inp: Inputs) -> Plan:
    """Stage 6: fold undersized or sliver grids into a neighbour (see the module docstring)."""
    cfg = inp.config
    if cfg.target_count is not None or plan.n_grids <= 1:
        return plan
    b = plan.blocks
    grid_of, tier = merge_small_grids(
        plan.graph,
        plan.grid_of,
        b.tier,
        b.community,
        b.rule_tier,
        shapely.length(b.geoms),
        cov.pairs,
        cov.pair_w,
        {x: s.max_diameter_m for x, s in cfg.tiers.items()},
        {x: cfg.target_area_of(x, inp.area_m2) for x in cfg.tiers},
        {x: cfg.high_area_of(x, inp.area_m2) for x in cfg.tiers},
    )
    blocks = replace(b, tier=tier)
    return Plan(blocks, grid_of, plan.graph)
