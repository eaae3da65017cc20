"""Stage 3, ``assign_tiers``: the tier of every block, from planners' zones first and the density rule elsewhere.

Why here, before splitting: the tier sets the patrol diameter and the target size, which decide how blocks are split.
Rule tiers are then made coherent (``smooth_tiers``) once the split blocks and their adjacency are known: the
density rule works on communities or 1 km cells and leaves small patches of one tier inside another, and each such
patch would become an undersized grid or an isolated island of its tier.
"""

from __future__ import annotations

import numpy as np

from geogrid.geometry import components, heaviest_neighbour
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Blocks, Linework
from geogrid.partition.inputs import Inputs
from geogrid.roads.classes import MAIN
from geogrid.tiers import auto_tiers, zone_tiers


def assign_tiers(blocks: Blocks, lw: Linework, inp: Inputs) -> Blocks:
    """Tier per block: the planner zone holding it, else the density rule (``geogrid.tiers``)."""
    out = blocks.take(np.arange(len(blocks)))
    if len(inp.zone_polys):
        out.tier = zone_tiers(blocks.geoms, inp.zone_polys, inp.zone_tiers)
    missing = np.array([t is None for t in out.tier], dtype=bool)
    out.rule_tier = missing
    if missing.any():
        codes = {i: str(c) for i, c in enumerate(inp.community_codes)}
        auto, _ = auto_tiers(blocks.geoms, blocks.community, codes, lw.road_lines[lw.road_class == MAIN])
        out.tier[missing] = auto[missing]
    return out


def tier_source(blocks: Blocks) -> str:
    """'zones', 'rule' or 'zones+rule': where the tiers came from (for the report)."""
    if blocks.rule_tier.all():
        return "rule"
    return "zones+rule" if blocks.rule_tier.any() else "zones"


def smooth_tiers(blocks: Blocks, pairs: np.ndarray, pair_w: np.ndarray, inp: Inputs, rounds: int = 4) -> Blocks:
    """Fold rule-tiered patches smaller than half their tier's target into the tier around them.

    A patch takes the tier it shares most border with (inside its community), when every block of it fits that
    tier's diameter cap; planner zones never change.
    """
    cfg = inp.config
    tier = blocks.tier.copy()
    if len(pairs) == 0 or not blocks.rule_tier.any():
        return blocks
    names = sorted(cfg.tiers)
    caps = np.array([cfg.tiers[x].max_diameter_m for x in names])
    targets = np.array([cfg.target_area_of(x, inp.area_m2) for x in names])
    diam = diameters(blocks.geoms)
    area = np.asarray([g.area for g in blocks.geoms])
    comm = blocks.community
    i, j = pairs[:, 0], pairs[:, 1]
    for _ in range(rounds):
        t_idx = np.searchsorted(names, tier)
        # patches: connected blocks of one community and one tier
        patch = components(len(tier), pairs, key=comm * len(names) + t_idx)
        p_area = np.bincount(patch, weights=area)
        p_tier = np.zeros(len(p_area), dtype=np.int64)
        p_tier[patch] = t_idx
        p_rule = np.zeros(len(p_area), dtype=bool)
        p_rule[patch[blocks.rule_tier]] = True
        small = p_rule & (p_area < 0.5 * targets[p_tier])
        # for each small patch, the neighbouring tier (same community) it shares most border with
        cross = (patch[i] != patch[j]) & (comm[i] == comm[j])
        src = np.concatenate([patch[i][cross], patch[j][cross]])
        dst = np.concatenate([t_idx[j][cross], t_idx[i][cross]])
        w = np.concatenate([pair_w[cross], pair_w[cross]])
        ok = small[src]
        if not ok.any():
            break
        p_ids, p_new, _ = heaviest_neighbour(src[ok], dst[ok], w[ok])
        new_t = np.full(len(p_area), -1)
        new_t[p_ids] = p_new
        # a patch changes only if every block of it fits the new tier's cap
        nb = new_t[patch]
        fits = np.ones(len(p_area), dtype=bool)
        np.logical_and.at(fits, patch, (nb < 0) | (diam <= caps[np.maximum(nb, 0)]))
        change = (nb >= 0) & fits[patch] & blocks.rule_tier
        if not change.any():
            break
        tier[change] = np.array(names, dtype=object)[nb[change]]
    out = blocks.take(np.arange(len(blocks)))
    out.tier = tier
    return out
