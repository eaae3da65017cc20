"""Stage 7, ``aggregate``: blocks → grids, group by group, balanced, compact and under the diameter cap.

Why this way: a grid must be a contiguous union of whole blocks of one community and tier, of even size (area or
workload) and compact, under the tier's patrol diameter. Each group (``groups``) is cut into its grid count by the
recursive shortest splitline (``splitline``); a grid still over the cap (an elongated group) is halved again;
then neighbouring grids trade blocks for balance and re-cut pairs for compactness (``refine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Blocks, Coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.groups import Groups
from geogrid.partition.inputs import Inputs
from geogrid.partition.refine import recombine, trade
from geogrid.partition.splitline import BlockGraph, bisect, splitline


@dataclass
class Plan:
    """Blocks and the grid each belongs to (ids 0..k-1)."""

    blocks: Blocks
    grid_of: np.ndarray
    size: np.ndarray
    """Size of each block in units of its tier's target grid (area, workload or both: see ``Sizer``)."""

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


def aggregate(blocks: Blocks, cov: Coverage, groups: Groups, size: np.ndarray, inp: Inputs) -> Plan:
    """Split each group into its count of balanced, compact grids under the diameter cap."""
    cfg = inp.config
    g = BlockGraph.of(blocks.geoms, size, blocks.group, cov.pairs, cov.pair_w)
    # the blocks of each group, in one sorted run per group
    order = np.argsort(blocks.group, kind="stable")
    bounds = np.searchsorted(blocks.group[order], np.arange(len(groups.k) + 1))
    sets = [s for gi, k in enumerate(groups.k.tolist()) for s in splitline(g, order[bounds[gi] : bounds[gi + 1]], k)]
    caps = np.array([cfg.tiers[t].max_diameter_m for t in blocks.tier])
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
    grid_of = trade(g, grid_of, groups.unit, caps)
    return Plan(blocks, recombine(g, grid_of, caps), size)
