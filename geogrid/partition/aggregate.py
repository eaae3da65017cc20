"""Stage 6, ``aggregate``: blocks → grids, group by group, balanced, compact and under the diameter cap.

Why this way: a grid must be a contiguous union of whole blocks of one community and tier, of even size (area or
workload) and compact, under the tier's patrol diameter. Each group (``groups``) is cut into its grid count by the
recursive shortest splitline (``splitline``); a grid still over the cap (an elongated group) is halved again;
then neighbouring grids trade blocks for balance and re-cut slivers (``refine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Blocks, Coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.groups import Groups
from geogrid.partition.inputs import Inputs
from geogrid.partition.refine import reshape, trade
from geogrid.partition.sizes import Sizer
from geogrid.partition.splitline import BlockGraph, bisect, splitline


@dataclass
class Plan:
    """Blocks and the grid each belongs to (ids 0..k-1)."""

    blocks: Blocks
    grid_of: np.ndarray
    size: np.ndarray
    """Size of each block in units of its tier's target grid (area, workload or both: see ``Sizer``)."""
    area_size: np.ndarray
    """Plain area of each block in units of its tier's target area."""

    @property
    def n_grids(self) -> int:
        return int(self.grid_of.max()) + 1 if len(self.grid_of) else 0


def _cap_split(g: BlockGraph, sets: list[np.ndarray], caps: np.ndarray) -> list[np.ndarray]:
    """Halve every grid over its diameter cap, until all fit (single blocks fit: ``split_blocks`` saw to it)."""
    out, todo = [], [s for s in sets if len(s)]
    while todo:
        m = todo.pop()
        if len(m) == 1 or diameters(g.hulls([m]))[0] <= caps[m[0]]:
            out.append(m)
            continue
        side = bisect(g, m, 0.5)
        todo += [m[side], m[~side]]
    return out


COARSE = 8
"""A group with fewer blocks than this per grid is coarse: its grid count is chosen among k − 1 … k + 2 by how
close to the planned grid size the grids the splitline and trades actually make come (a handful of big blocks
divides evenly into some counts and not others)."""


def _group_sets(g: BlockGraph, members: np.ndarray, k: int, k_min: int, caps: np.ndarray, alone: bool) -> list:
    """The grids of one group: its splitline, or for a coarse group the best of several counts.

    Scored by the root mean square deviation from the planned grid size (the group's size / k), or from the grids'
    own mean when the group is ``alone`` in its tier (then only evenness matters).
    """
    if k <= 1 or len(members) >= COARSE * k:
        return splitline(g, members, k)
    planned = g.size[members].sum() / k
    local = g.restrict(members)
    best = None
    for kk in range(max(k_min, 1, k - 1), min(k + 2, len(members)) + 1):
        sets = splitline(local, np.arange(len(members)), kk)
        grid_of = np.empty(len(members), dtype=np.int64)
        for gid, s in enumerate(sets):
            grid_of[s] = gid
        grid_of = trade(local, grid_of, np.array([local.size.sum() / kk]), caps[members])
        sizes = np.bincount(grid_of, weights=local.size)
        ref = sizes.mean() if alone else planned
        score = float(np.sqrt((((sizes - ref) / max(ref, 1e-12)) ** 2).mean()))
        if best is None or score < best[0]:
            best = (score, [members[grid_of == gid] for gid in range(grid_of.max() + 1)])
    return best[1]


def aggregate(blocks: Blocks, cov: Coverage, groups: Groups, sizer: Sizer, inp: Inputs) -> Plan:
    """Split each group into its count of balanced, compact grids under the diameter cap."""
    cfg = inp.config
    size = sizer(blocks.geoms, blocks.tier)
    g = BlockGraph.of(blocks, size, cov.pairs, cov.pair_w)
    # the blocks of each group, in one sorted run per group
    order = np.argsort(blocks.group, kind="stable")
    bounds = np.searchsorted(blocks.group[order], np.arange(len(groups.k) + 1))
    caps = np.array([cfg.tiers[t].max_diameter_m for t in blocks.tier])
    k_min = groups.k_min if groups.k_min is not None and cfg.target_count is None else groups.k
    sets, counts = [], np.zeros(len(groups.k), dtype=np.int64)
    alone = np.unique(groups.tier, return_counts=True)
    alone = dict(zip(alone[0], alone[1] == 1, strict=True))
    for gi, k in enumerate(groups.k.tolist()):
        m = order[bounds[gi] : bounds[gi + 1]]
        if cfg.target_count is not None:
            made = splitline(g, m, k)
        else:
            made = _group_sets(g, m, k, int(k_min[gi]), caps, alone[groups.tier[gi]])
        sets += made
        counts[gi] = len(made)
    sets = _cap_split(g, sets, caps)
    if cfg.target_count is not None and len(sets) != cfg.target_count:
        caps_txt = ", ".join(f"{t} ≤ {v.max_diameter_m:g} m" for t, v in cfg.tiers.items())
        raise PartitionError(
            f"target_count {cfg.target_count} cannot be met: the patrol diameter limits ({caps_txt}) need "
            f"{len(sets)} grids here; raise target_count or the limits"
        )
    grid_of = np.empty(len(blocks), dtype=np.int64)
    for gid, s in enumerate(sets):
        grid_of[s] = gid
    grid_of = reshape(g, trade(g, grid_of, groups.size / np.maximum(counts, 1), caps), caps)
    area_size = shapely.area(blocks.geoms) / sizer.target_area(blocks.tier)
    return Plan(blocks, grid_of, size, area_size)
