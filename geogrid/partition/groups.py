"""Stage 4, ``group_blocks``: which blocks may share a grid, and how many grids each such group gets.

Why before splitting: a grid never crosses a community border or a tier border, so the connected blocks of one
community and one tier (a *group*) are divided independently. Knowing each group's grid count early gives the size
one of its grids should have (its *unit*), which tells the split stage how finely to cut blocks too big to balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.geometry import components
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Blocks, Coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.inputs import Inputs

CV_DECIMALS = 2
"""Grid-size CVs that round alike count as equal; the mean grid size nearest the target then wins."""
CAP_FILL = 0.8
"""A grid spans at most this share of its tier's patrol diameter when counting grids for a long group."""


@dataclass
class Groups:
    """One row per group."""

    tier: np.ndarray
    community: np.ndarray
    size: np.ndarray
    """Total size in target units."""
    k: np.ndarray
    """Number of grids."""
    k_min: np.ndarray | None = None
    """Fewest grids the diameter cap allows (None: 1); with ``target_count`` the count is fixed (k_min = k)."""

    @property
    def unit(self) -> np.ndarray:
        """Size of one grid of each group (target units)."""
        return self.size / np.maximum(self.k, 1)


def grid_counts(size: np.ndarray, lows: np.ndarray, highs: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Grids per group: per size range, the grid size within [low, high] whose rounding gives the most even grids.

    ``size`` is each group's size in target units (so the target is 1). Why: a group of 1.4 targets makes one grid
    and one of 1.6 two of 0.8; choosing the unit inside the configured range so that size / round(size / unit)
    varies least lowers the tier's CV before any splitting.

    >>> grid_counts(np.array([1.4, 1.6]), np.array([0.6, 0.6]), np.array([1.4, 1.4]), np.array([9, 9])).tolist()
    [2, 2]
    """
    k = np.ones(len(size), dtype=np.int64)
    for lo, hi in np.unique(np.column_stack([lows, highs]), axis=0):
        # groups smaller than the smallest grid get one grid whatever the unit: they do not vote on it
        m = (lows == lo) & (highs == hi) & (size >= lo)
        if not m.any():
            continue
        # candidate grid sizes: the target and 41 steps across the range
        cands = np.unique(np.concatenate([[1.0], np.linspace(lo, hi, 41)]))
        kk = np.clip(np.round(size[m][None, :] / cands[:, None]), 1, capacity[m][None, :])
        # per candidate: the CV over all grids of these groups (each group's grids equal), then nearness to 1
        per = size[m][None, :] / kk
        mean = (per * kk).sum(1) / kk.sum(1)
        cv = np.sqrt(((per - mean[:, None]) ** 2 * kk).sum(1) / kk.sum(1)) / np.maximum(mean, 1e-12)
        best = np.lexsort((np.abs(mean - 1.0), np.round(cv, CV_DECIMALS)))[0]
        k[m] = kk[best].astype(np.int64)
    return k


def counts_for_total(size: np.ndarray, count: int, capacity: np.ndarray) -> np.ndarray:
    """Grids per group when the total is fixed: proportional to size, at least one, at most one per block."""
    if count < len(size):
        raise PartitionError(
            f"target_count {count} cannot be met: the boundary holds {len(size)} community/tier groups and every one "
            "needs at least one grid"
        )
    if count > capacity.sum():
        raise PartitionError(f"target_count {count} cannot be met: the boundary holds only {capacity.sum()} blocks")
    q = size / max(size.sum(), 1e-12) * count
    k = np.clip(np.floor(q), 1, capacity).astype(np.int64)
    while k.sum() < count:  # hand out the remainder by largest shortfall, within each group's block count
        k[int(np.argmax(np.where(k < capacity, q - k, -np.inf)))] += 1
    while k.sum() > count:  # or take back from the groups furthest over their share
        k[int(np.argmin(np.where(k > 1, q - k, np.inf)))] -= 1
    return k


def _cap_minimum(blocks: Blocks, group: np.ndarray, ng: int, caps: np.ndarray) -> np.ndarray:
    """Fewest grids each group needs for the diameter cap: its length over the cap, its area over a cap-wide square.

    A long group (a riverbank) needs length / (0.8 cap) grids whatever its size; counting them here makes the
    splitline cut it evenly instead of halving the grids that turn out too long afterwards.
    """
    # length of each group: the diameter of the hull of its blocks' hulls
    hulls = shapely.convex_hull(blocks.geoms)
    coords, idx = shapely.get_coordinates(hulls, return_index=True)
    order = np.argsort(group[idx], kind="stable")
    length = diameters(shapely.convex_hull(shapely.multipoints(coords[order], indices=group[idx][order])))
    area = np.bincount(group, weights=shapely.area(blocks.geoms), minlength=ng)
    by_length = np.ceil(length / (CAP_FILL * caps))
    by_area = np.ceil(area / (0.5 * caps**2))  # a square whose diagonal is the cap
    return np.maximum(1, np.maximum(by_length, by_area)).astype(np.int64)


def group_blocks(blocks: Blocks, cov: Coverage, size: np.ndarray, inp: Inputs) -> tuple[Blocks, Groups]:
    """Blocks labelled with their group, and each group's tier, community, size and grid count."""
    cfg = inp.config
    names = np.array(sorted(cfg.tiers), dtype=object)
    key = blocks.community * len(names) + np.searchsorted(names, blocks.tier)
    group = components(len(blocks), cov.pairs, key=key)
    ng = int(group.max()) + 1
    first = np.full(ng, -1)
    first[group[::-1]] = np.arange(len(group))[::-1]
    tier, g_size = blocks.tier[first], np.bincount(group, weights=size, minlength=ng)
    # how many grids a group could hold: one per block, plus one per whole target inside big blocks (cut later)
    capacity = np.bincount(group, weights=1.0 + np.floor(size), minlength=ng).astype(np.int64)
    if cfg.target_count is None:
        lows, highs = np.array([cfg.low_ratio(t) for t in tier]), np.array([cfg.high_ratio(t) for t in tier])
        k = grid_counts(g_size, lows, highs, capacity)
        caps = np.array([cfg.tiers[t].max_diameter_m for t in tier])
        k_min = _cap_minimum(blocks, group, ng, caps)
        k = np.maximum(k, k_min)
    else:
        k = k_min = counts_for_total(g_size, cfg.target_count, capacity)
    out = blocks.take(np.arange(len(blocks)))
    out.group = group
    return out, Groups(tier=tier, community=blocks.community[first], size=g_size, k=k, k_min=k_min)
