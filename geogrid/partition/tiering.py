"""Stage 3, ``assign_tiers``: the tier of every block, from planners' zones first and the density rule elsewhere.

Why here, before splitting: the tier sets the patrol diameter and the target size, which decide how blocks are
split. Tiers must also form coherent zones: the rule works per community or per neighbourhood and leaves patches
of one tier inside another, and a patch too small for two grids becomes an undersized grid or a lone grid of its
tier enclosed by another (a "tier island" no planner would draw). Such patches take the tier around them
(``coherent_tiers``); planners' zones are never changed.
"""

from __future__ import annotations

import numpy as np

from geogrid.geometry import components, heaviest_neighbour
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Blocks, Coverage, Linework
from geogrid.partition.inputs import Inputs
from geogrid.roads.classes import MAIN
from geogrid.tiers import auto_tiers, zone_tiers

ZONE_MIN_TARGETS = 2.0
"""A rule-tiered patch smaller than this many grids of its tier takes the tier around it."""
MAJORITY = 0.6
"""A block outside every community whose border runs more than this share along one other tier takes that tier."""


def assign_tiers(blocks: Blocks, cov: Coverage, lw: Linework, inp: Inputs) -> Blocks:
    """Tier per block: the planner zone holding it, else the density rule (``geogrid.tiers``); then coherent zones."""
    out = blocks.take(np.arange(len(blocks)))
    if len(inp.zone_polys):
        out.tier = zone_tiers(blocks.geoms, inp.zone_polys, inp.zone_tiers)
    missing = np.array([t is None for t in out.tier], dtype=bool)
    out.rule_tier = missing
    if missing.any():
        codes = {i: str(c) for i, c in enumerate(inp.community_codes)}
        auto, _ = auto_tiers(blocks.geoms, blocks.community, codes, lw.road_lines[lw.road_class == MAIN])
        out.tier[missing] = auto[missing]
        out.tier = majority_tiers(out, cov, inp)
        out.tier = coherent_tiers(out, cov, inp)
    return out


def tier_source(blocks: Blocks) -> str:
    """'zones', 'rule' or 'zones+rule': where the tiers came from (for the report)."""
    if blocks.rule_tier.all():
        return "rule"
    return "zones+rule" if blocks.rule_tier.any() else "zones"


def _fits(blocks: Blocks, inp: Inputs, names: np.ndarray) -> np.ndarray:
    """(blocks, tiers) boolean: the block fits that tier's diameter cap."""
    caps = np.array([inp.config.tiers[x].max_diameter_m for x in names])
    return diameters(blocks.geoms)[:, None] <= caps[None, :]


def majority_tiers(blocks: Blocks, cov: Coverage, inp: Inputs, rounds: int = 8) -> np.ndarray:
    """Smooth the moving-window tiers: a block bordered mostly by one other tier takes it (a mode filter).

    Why: the window rule follows density, which ebbs and flows along streets, so a zone's edge frays into arms one
    block wide (a strip of B down a street between two A areas); no grid made of such an arm is compact. Weighted by
    shared border length, a block on a straight zone edge keeps its tier and a block in an arm loses it. Only blocks
    outside every community (community tiers come whole per community) and only rule tiers change.
    """
    names = np.array(sorted(inp.config.tiers), dtype=object)
    tier = blocks.tier.copy()
    free = blocks.rule_tier & (blocks.community < 0)
    if len(cov.pairs) == 0 or not free.any():
        return tier
    fits = _fits(blocks, inp, names)
    i, j = cov.pairs[:, 0], cov.pairs[:, 1]
    src, nbr, w = np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([cov.pair_w] * 2)
    total = np.bincount(src, weights=w, minlength=len(tier))
    for _ in range(rounds):
        t_idx = np.searchsorted(names, tier)
        # per block: the neighbouring tier with the longest shared border, and that length
        ids, best, length = heaviest_neighbour(src, t_idx[nbr], w)
        flip = free[ids] & (best != t_idx[ids]) & (length > MAJORITY * total[ids]) & fits[ids, best]
        if not flip.any():
            break
        tier[ids[flip]] = names[best[flip]]
    return tier


def coherent_tiers(blocks: Blocks, cov: Coverage, inp: Inputs, rounds: int = 10) -> np.ndarray:
    """Tiers where every rule-tiered patch (connected blocks of one tier) holds at least two grids of its tier.

    A smaller patch takes the neighbouring tier it shares most border with, when every block of it fits that tier's
    diameter cap (so no block needs a straight cut for it). Patches are taken across community borders: a lone grid
    is an island whichever community it belongs to.
    """
    cfg = inp.config
    names = np.array(sorted(cfg.tiers), dtype=object)
    small_below = ZONE_MIN_TARGETS * np.array([cfg.target_area_of(x, inp.area_m2) for x in names])
    tier = blocks.tier.copy()
    if len(cov.pairs) == 0:
        return tier
    size = np.array([g.area for g in blocks.geoms])
    fits = _fits(blocks, inp, names)
    i, j = cov.pairs[:, 0], cov.pairs[:, 1]
    for _ in range(rounds):
        t_idx = np.searchsorted(names, tier)
        # patches and their size; a patch may change only if it has a rule-tiered block and is too small
        patch = components(len(tier), cov.pairs, key=t_idx)
        p_size = np.bincount(patch, weights=size)
        p_tier = np.zeros(len(p_size), dtype=np.int64)
        p_tier[patch] = t_idx
        p_rule = np.zeros(len(p_size), dtype=bool)
        p_rule[patch[blocks.rule_tier]] = True
        small = p_rule & (p_size < small_below[p_tier])
        # for each small patch, the neighbouring tier it shares most border with
        cross = small[patch[i]] | small[patch[j]]
        cross &= patch[i] != patch[j]
        src = np.concatenate([patch[i][cross], patch[j][cross]])
        dst = np.concatenate([t_idx[j][cross], t_idx[i][cross]])
        ok = small[src]
        ids, new, _ = heaviest_neighbour(src[ok], dst[ok], np.concatenate([cov.pair_w[cross]] * 2)[ok])
        new_t = np.full(len(p_size), -1)
        new_t[ids] = new
        # a patch changes only if every block of it fits the new tier's cap
        nb = new_t[patch]
        p_fits = np.ones(len(p_size), dtype=bool)
        np.logical_and.at(p_fits, patch, (nb < 0) | fits[np.arange(len(nb)), np.maximum(nb, 0)])
        change = (nb >= 0) & p_fits[patch] & blocks.rule_tier
        if not change.any():
            break
        tier[change] = names[nb[change]]
    return tier
