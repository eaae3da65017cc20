"""Stage 2, ``build_blocks``: the road-bounded blocks every grid is made of, with their community.

Why blocks: a grid is a union of whole blocks, so every grid border lies on a road centreline, a community border
or a barrier by construction. ``Blocks`` carries the per-block arrays through the later stages together, so a
stage that drops, splits or reorders blocks does it once, with ``take``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import shapely

from geogrid.geometry import adjacency, build_faces, components, grouped_union, polygons_only, rebuild_coverage
from geogrid.partition.inputs import Inputs
from geogrid.roads.classes import DEFAULT_HALF_WIDTHS

FACE, PATH_SPLIT, STRAIGHT_CUT = 0, 1, 2
ORIGIN_NAMES = np.array(["face", "path_split", "straight_cut"], dtype=object)
"""How a block came to be: a road-bounded face, a piece of one split along paths, or a piece of a straight cut."""


@dataclass
class Blocks:
    """Parallel arrays, one row per block (metric CRS)."""

    geoms: np.ndarray
    """Single Polygons."""
    community: np.ndarray
    """Index into ``Inputs.communities`` (-1 = none)."""
    tier: np.ndarray
    """'A', 'B', 'C' (None before ``assign_tiers``)."""
    rule_tier: np.ndarray
    """True where the tier came from the density rule (it may change); False where a planner's zone set it."""
    origin: np.ndarray
    """FACE, PATH_SPLIT or STRAIGHT_CUT."""
    group: np.ndarray
    """Index into ``Groups`` (connected blocks of one community and tier; -1 before ``group_blocks``)."""
    parent: np.ndarray | None = None
    """The block each was cut from by ``split_blocks`` (None before): two pieces of one parent share a cut line."""

    def __len__(self) -> int:
        return len(self.geoms)

    def take(self, idx: np.ndarray) -> Blocks:
        """The blocks at ``idx`` (an index or boolean array): every array indexed the same way."""
        return Blocks(
            **{f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[idx] for f in fields(self)}
        )

    def with_geoms(self, geoms: np.ndarray, src: np.ndarray, origin: np.ndarray | None = None) -> Blocks:
        """New geometries, each taking the attributes of block ``src``; ``origin`` (if given) replaces the origin."""
        out = replace(self.take(src), geoms=geoms)
        if origin is not None:
            out.origin = np.maximum(out.origin, origin).astype(np.int8)
        return out


@dataclass
class Linework:
    """The lines blocks were built from, kept to tell border kinds apart (tiers, report)."""

    road_lines: np.ndarray
    """Road lines clipped to the boundary."""
    road_class: np.ndarray
    split_lines: np.ndarray
    """Centrelines drawn inside collapsed carriageway artefacts."""

    @property
    def centrelines(self) -> np.ndarray:
        """Everything a border "on a road centreline" may follow."""
        return np.concatenate([self.road_lines, self.split_lines])


@dataclass
class Coverage:
    """The exact topology of a block coverage: noded edges, the block on each side, and neighbour pairs."""

    edges: np.ndarray
    """Lines between two different blocks, or between a block and the outside."""
    sides: np.ndarray
    """(n, 2): block left and right of each edge (-1 = outside the coverage)."""
    pairs: np.ndarray
    """(m, 2) neighbouring blocks, i < j."""
    pair_w: np.ndarray
    """Border length each pair shares (m)."""


def exact_coverage(blocks: Blocks) -> tuple[Blocks, Coverage]:
    """Re-node ``blocks`` so neighbours share bit-identical edges; returns the blocks and their topology."""
    geoms, src, edges, sides = rebuild_coverage(blocks.geoms, blocks.community)
    pairs, pair_w = adjacency(edges, sides)
    return blocks.with_geoms(geoms, src), Coverage(edges, sides, pairs, pair_w)


UNIT_OVERLAP_M2 = 100.0
"""A unit holds a block when they overlap by more than this (m²), or by more than 5 % of the unit."""


def join_units(blocks: Blocks, units: np.ndarray) -> Blocks:
    """One block for every set of blocks of one community that a unit spans (a road through a campus is no border).

    Why: a grid border never cuts a unit, and grid borders are block borders; joining the blocks a unit spans makes
    the unit whole before anything else happens.
    """
    if len(units) == 0 or len(blocks) == 0:
        return blocks
    ui, bi = shapely.STRtree(blocks.geoms).query(units, predicate="intersects")
    share = shapely.area(shapely.intersection(units[ui], blocks.geoms[bi]))
    held = share > np.minimum(UNIT_OVERLAP_M2, 0.05 * shapely.area(units[ui]))
    ui, bi = ui[held], bi[held]
    # pairs of blocks held by the same unit (each block linked to the first block of its unit), same community
    order = np.lexsort((bi, ui))
    ui, bi = ui[order], bi[order]
    first = bi[np.searchsorted(ui, ui)]
    link = np.column_stack([first, bi])[(first != bi) & (blocks.community[first] == blocks.community[bi])]
    if len(link) == 0:
        return blocks
    label = components(len(blocks), link)
    uniq, geoms = grouped_union(blocks.geoms, label, coverage=False)
    src = np.full(len(uniq), -1)
    src[np.searchsorted(uniq, label[::-1])] = np.arange(len(label))[::-1]
    geoms, idx = polygons_only(geoms, return_index=True)
    return blocks.with_geoms(geoms, src[idx])


def build_blocks(inp: Inputs) -> tuple[Blocks, Coverage, Linework]:
    """Blocks bounded by road centrelines, community borders, barriers and the boundary (its holes stay out)."""
    widths = {**DEFAULT_HALF_WIDTHS, **inp.config.half_widths}
    comm = inp.communities if len(inp.communities) else None
    fs = build_faces(inp.road_lines, inp.road_class, inp.boundary, comm, inp.barrier_lines, widths)
    n = len(fs.blocks)
    blocks = Blocks(
        geoms=fs.blocks,
        community=fs.community,
        tier=np.full(n, None, dtype=object),
        rule_tier=np.ones(n, dtype=bool),
        origin=np.zeros(n, dtype=np.int8),
        group=np.full(n, -1, dtype=np.int64),
    )
    blocks, cov = exact_coverage(join_units(blocks, inp.units))
    return blocks, cov, Linework(road_lines=fs.road_lines, road_class=fs.road_class, split_lines=fs.split_lines)
