"""Stage 5, ``split_blocks``: cut blocks too big for their tier or their group's grids.

Why: a park, a hill, a campus or a stretch of river can be one road-bounded face larger than a tier's patrol
diameter allows, or larger than one grid of its group; no even plan can then be made of whole blocks. Paths, tracks
and the borders of units (compounds, campuses) inside it are the natural borders and are used first; straight cuts
across the long axis come last, and never through a unit.

- over the diameter cap: polygonize with the inner paths and unit borders, then cut what still does not fit;
- over 1.2 × the group's grid size: cut into round(size / unit) pieces of equal size, so each piece is one grid.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely

from geogrid.geometry import interior_points, lines_only, polygons_only
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import FACE, PATH_SPLIT, STRAIGHT_CUT, Blocks, Coverage, exact_coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.groups import Groups
from geogrid.partition.inputs import Inputs
from geogrid.partition.sizes import Sizer

PATH_ZONE_M = 10.0
"""A straight cut running within this distance of a path follows the path (costs nothing in the cut choice)."""
MIN_PATH_PIECE = 0.05
"""Path splits that leave a piece below this share of a target grid are not used."""
LARGE_FACTOR = 1.5
"""A block above this multiple of its group's grid size is cut into pieces of that size ..."""
LARGE_MIN = 0.5
"""... when it is also at least half a target grid (a group of uncounted land — mountain, no workload — has tiny
grid sizes, and cutting its blocks by size would only add cuts the diameter cap does not need)."""


class _Cutter:
    """Straight cuts of one polygon across its long axis: by position (shortest cut) or by size fraction."""

    def __init__(self, poly, zone=None, turn: float = 0.0):
        """Cuts run across the long axis of the minimum rotated rectangle, turned by ``turn`` radians."""
        self.poly, self.zone = poly, zone
        c = shapely.get_coordinates(shapely.minimum_rotated_rectangle(poly))[:4]
        e1, e2 = c[1] - c[0], c[2] - c[1]
        axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        cos, sin = np.cos(turn), np.sin(turn)
        axis = np.array([cos * axis[0] - sin * axis[1], sin * axis[0] + cos * axis[1]])
        self.u = axis / np.hypot(*axis)
        self.n = np.array([-self.u[1], self.u[0]])
        xy = shapely.get_coordinates(poly)
        a, b = xy @ self.u, xy @ self.n
        self.lo, self.hi, self.blo, self.bhi = a.min(), a.max(), b.min(), b.max()

    def half_plane(self, t: float):
        u, n, lo, blo, bhi = self.u, self.n, self.lo, self.blo, self.bhi
        return shapely.Polygon(
            [(lo - 1) * u + (blo - 1) * n, t * u + (blo - 1) * n, t * u + (bhi + 1) * n, (lo - 1) * u + (bhi + 1) * n]
        )

    def sides(self, t: float) -> tuple:
        """(the part below position ``t`` along the axis, the part above it)."""
        hp = self.half_plane(t)
        return shapely.intersection(self.poly, hp), shapely.difference(self.poly, hp)

    def shortest(self) -> float:
        """Among positions leaving 30–70 % of the area on each side, the shortest cut (path length counts free)."""
        ts = self.lo + (self.hi - self.lo) * np.linspace(0.2, 0.8, 25)
        planes = np.array([self.half_plane(t) for t in ts], dtype=object)
        frac = shapely.area(shapely.intersection(self.poly, planes)) / shapely.area(self.poly)
        ends = [[t * self.u + (self.blo - 1) * self.n, t * self.u + (self.bhi + 1) * self.n] for t in ts]
        lines = shapely.linestrings(ends)
        inside = shapely.intersection(lines, self.poly)
        score = shapely.length(inside)
        if self.zone is not None:
            score = score - 2.0 * shapely.length(shapely.intersection(inside, self.zone))
        ok = (frac >= 0.3) & (frac <= 0.7)
        if ok.any():
            return float(ts[int(np.argmin(np.where(ok, score + np.abs(frac - 0.5) * 1e-3, np.inf)))])
        return self.at_fraction(0.5, shapely.area)

    def at_fraction(self, frac: float, measure) -> float:
        """The position leaving ``frac`` of ``measure`` (area, workload) on the low side, by bisection."""
        total = measure(self.poly)
        left, right = self.lo, self.hi
        t = (left + right) / 2.0
        for _ in range(30):
            part = measure(shapely.intersection(self.poly, self.half_plane(t)))
            if abs(part - frac * total) < total * 0.002:
                break
            left, right = (t, right) if part < frac * total else (left, t)
            t = (left + right) / 2.0
        return t


def _cut_to_fit(poly, cap: float, out: list, zone=None, depth: int = 0) -> None:
    """Cut ``poly`` across its long axis at the shortest position, recursively, until each piece is under ``cap``."""
    if diameters(np.array([poly]))[0] <= cap or depth > 24:
        out.append(poly)
        return
    cutter = _Cutter(poly, zone)
    low, high = cutter.sides(cutter.shortest())
    if shapely.is_empty(low) or shapely.is_empty(high):
        out.append(poly)
        return
    for part in (low, high):
        _cut_to_fit(part, cap, out, zone, depth + 1)


EQUAL_TURNS = (0.0, np.pi / 4, -np.pi / 4, np.pi / 2)
"""Cut directions tried for an equal split, relative to across the long axis (workload comes in lumps: a row of
buildings along one direction cannot be halved by a cut parallel to it)."""


def _cut_cost(low, high, zone) -> float:
    """Length of a cut (the border ``low`` and ``high`` share), the part along a path counted as free."""
    line = shapely.intersection(shapely.boundary(low), shapely.boundary(high))
    return shapely.length(line) - (2.0 * shapely.length(shapely.intersection(line, zone)) if zone is not None else 0.0)


def _cut_equal(poly, n: int, measure, out: list, zone=None, depth: int = 0) -> None:
    """Cut ``poly`` into ``n`` pieces of equal ``measure`` (recursive, n₁ = ⌊n/2⌋ on one side).

    Among the directions of ``EQUAL_TURNS``, the cheapest cut (``_cut_cost``: shortest off the paths) whose balance
    is within 5 % of the best one's.
    """
    if n <= 1 or depth > 12:
        out.append(poly)
        return
    n1, total = n // 2, max(measure(poly), 1e-12)
    cands = []
    for turn in EQUAL_TURNS:
        cutter = _Cutter(poly, turn=turn)
        low, high = cutter.sides(cutter.at_fraction(n1 / n, measure))
        if not (shapely.is_empty(low) or shapely.is_empty(high)):
            cands.append((abs(measure(low) / total - n1 / n), _cut_cost(low, high, zone), low, high))
    if not cands:
        out.append(poly)
        return
    best_err = min(c[0] for c in cands)
    _, _, low, high = min((c for c in cands if c[0] <= best_err + 0.05), key=lambda c: c[1])
    _cut_equal(low, n1, measure, out, zone, depth + 1)
    _cut_equal(high, n - n1, measure, out, zone, depth + 1)


def _whole_units(low, high, units: np.ndarray):
    """Move every unit the cut runs through wholly to the side holding most of it."""
    if len(units) == 0:
        return low, high
    crossing = units[shapely.intersects(units, low) & shapely.intersects(units, high)]
    for u in crossing:
        if shapely.area(shapely.intersection(u, low)) >= shapely.area(shapely.intersection(u, high)):
            low, high = shapely.union(low, shapely.intersection(u, high)), shapely.difference(high, u)
        else:
            low, high = shapely.difference(low, u), shapely.union(high, shapely.intersection(u, low))
    return low, high


def _merge_small(pieces: np.ndarray, min_area: float) -> np.ndarray:
    """Merge pieces below ``min_area`` into the neighbour they share the longest border with (smallest first)."""
    pieces = list(pieces)
    while len(pieces) > 1:
        areas = np.array([p.area for p in pieces])
        i = int(np.argmin(areas))
        if areas[i] >= min_area:
            break
        shared = shapely.length(shapely.intersection(shapely.boundary(pieces[i]), shapely.boundary(np.array(pieces))))
        shared[i] = -1
        j = int(np.argmax(shared))
        if shared[j] <= 0:
            break
        merged = shapely.union(pieces[i], pieces[j])
        pieces = [p for k, p in enumerate(pieces) if k not in (i, j)] + [merged]
    return polygons_only(np.array(pieces, dtype=object))


class _Splitter:
    """The soft borders of one run (paths, unit borders) and the cuts that respect units."""

    def __init__(self, inp: Inputs):
        self.units = inp.units
        minor = inp.minor_lines
        if len(self.units) and len(minor):  # a path through a compound is not a border
            minor = lines_only(shapely.difference(minor, shapely.union_all(self.units)))
        soft = np.concatenate([minor, lines_only(shapely.boundary(self.units)) if len(self.units) else minor[:0]])
        self.soft = soft
        self.tree = shapely.STRtree(soft) if len(soft) else None
        self.unit_tree = shapely.STRtree(self.units) if len(self.units) else None

    def inner(self, poly) -> tuple[np.ndarray, object]:
        """Soft borders inside ``poly``, and the zone around them where a cut counts as following one."""
        if self.tree is None:
            return np.empty(0, dtype=object), None
        near = self.tree.query(poly, predicate="intersects")
        inner = lines_only(shapely.intersection(self.soft[near], poly)) if len(near) else np.empty(0, dtype=object)
        zone = shapely.buffer(shapely.union_all(inner), PATH_ZONE_M, quad_segs=2) if len(inner) else None
        return inner, zone

    def units_in(self, poly) -> np.ndarray:
        if self.unit_tree is None:
            return np.empty(0, dtype=object)
        return self.units[self.unit_tree.query(poly, predicate="intersects")]

    def soft_pieces(self, poly, min_area: float) -> np.ndarray:
        """``poly`` polygonized with its inner soft borders (one piece when there are none)."""
        inner, _ = self.inner(poly)
        if len(inner) == 0:
            return np.array([poly], dtype=object)
        linework = shapely.get_parts(shapely.union_all(np.concatenate([[shapely.boundary(poly)], inner])))
        cand = polygons_only(shapely.get_parts(shapely.polygonize(linework)))
        cand = cand[shapely.contains_properly(poly, interior_points(cand))]
        return _merge_small(cand, min_area) if len(cand) > 1 else np.array([poly], dtype=object)

    def fit(self, poly, cap: float) -> list:
        """Straight cuts until every piece is under ``cap``, following soft borders where near, never through a unit."""
        out: list = []
        _cut_to_fit(poly, cap, out, self.inner(poly)[1])
        return self._keep_units(poly, out)

    def equal(self, poly, n: int, measure) -> list:
        """``n`` pieces of equal ``measure``, cut where shortest off the soft borders, never through a unit."""
        out: list = []
        _cut_equal(poly, n, measure, out, self.inner(poly)[1])
        return self._keep_units(poly, out)

    def _keep_units(self, poly, pieces: list) -> list:
        """Re-assign units cut by straight cuts to the piece holding most of each (pieces stay a partition)."""
        units = self.units_in(poly)
        if len(units) == 0 or len(pieces) < 2:
            return pieces
        pieces = list(pieces)
        for u in units:
            share = shapely.area(shapely.intersection(u, np.array(pieces, dtype=object)))
            if (share > 1e-6).sum() < 2:
                continue
            keep = int(np.argmax(share))
            pieces = [shapely.union(p, u) if i == keep else shapely.difference(p, u) for i, p in enumerate(pieces)]
        return pieces


def _split_over_cap(blocks: Blocks, sp: _Splitter, inp: Inputs) -> Blocks:
    """Split blocks over their tier's diameter cap: soft borders first, then straight cuts."""
    cfg = inp.config
    caps = np.array([cfg.tiers[t].max_diameter_m for t in blocks.tier])
    over = diameters(blocks.geoms) > caps
    if not over.any():
        return blocks
    geoms, src, kind = [blocks.geoms[~over]], [np.flatnonzero(~over)], [np.zeros(int((~over).sum()), dtype=np.int8)]
    for i in np.flatnonzero(over):
        min_area = MIN_PATH_PIECE * cfg.target_area_of(blocks.tier[i], inp.area_m2)
        pieces = sp.soft_pieces(blocks.geoms[i], min_area)
        final = [q for p in pieces for q in sp.fit(p, caps[i])]
        parts = polygons_only(np.array(final, dtype=object))
        geoms.append(parts)
        src.append(np.full(len(parts), i))
        cut = len(parts) > len(pieces)
        kind.append(np.full(len(parts), STRAIGHT_CUT if cut else (PATH_SPLIT if len(pieces) > 1 else FACE), np.int8))
    return blocks.with_geoms(np.concatenate(geoms), np.concatenate(src), np.concatenate(kind))


def _split_to_unit(blocks: Blocks, groups: Groups, sizer: Sizer, sp: _Splitter, inp: Inputs) -> Blocks:
    """Cut blocks far larger than one grid of their group: along their paths and unit borders first, then the
    pieces still too large into equal pieces of about one grid each."""
    size = sizer(blocks.geoms, blocks.tier)
    unit = groups.unit[blocks.group]
    large = (size > LARGE_FACTOR * unit) & (size > LARGE_MIN)
    if not large.any():
        return blocks
    geoms, src = [blocks.geoms[~large]], [np.flatnonzero(~large)]
    kind = [np.zeros(int((~large).sum()), dtype=np.int8)]
    for i in np.flatnonzero(large):
        tier = blocks.tier[i : i + 1]

        def measure(g, t=tier):
            return sizer(np.array([g]), t)[0]

        soft = sp.soft_pieces(blocks.geoms[i], MIN_PATH_PIECE * inp.config.target_area_of(tier[0], inp.area_m2))
        pieces, cut = [], False
        for p in soft:
            s_p = measure(p)
            if s_p > LARGE_FACTOR * unit[i] and s_p > LARGE_MIN:
                pieces += sp.equal(p, max(2, int(s_p / unit[i])), measure)
                cut = True
            else:
                pieces.append(p)
        parts = polygons_only(np.array(pieces, dtype=object))
        geoms.append(parts)
        src.append(np.full(len(parts), i))
        k = STRAIGHT_CUT if cut else (PATH_SPLIT if len(parts) > 1 else FACE)
        kind.append(np.full(len(parts), k, np.int8))
    return blocks.with_geoms(np.concatenate(geoms), np.concatenate(src), np.concatenate(kind))


def split_blocks(blocks: Blocks, groups: Groups, sizer: Sizer, inp: Inputs, rounds: int = 3) -> tuple[Blocks, Coverage]:
    """Split blocks over their tier's cap or their group's grid size, then re-node the coverage exactly.

    Re-noding can graft a sliver onto a block, so the caps are checked again on the exact coverage (up to
    ``rounds`` times); the size pass runs once.
    """
    cfg = inp.config
    sp = _Splitter(inp)
    blocks = replace(blocks, parent=np.arange(len(blocks)))
    for it in range(rounds):
        blocks = _split_over_cap(blocks, sp, inp)
        if it == 0:
            blocks = _split_to_unit(blocks, groups, sizer, sp, inp)
        blocks, cov = exact_coverage(blocks)
        over = diameters(blocks.geoms) > np.array([cfg.tiers[t].max_diameter_m for t in blocks.tier])
        if not over.any():
            return blocks, cov
    raise PartitionError(
        f"{int(over.sum())} block(s) could not be brought under the diameter limits",
        fix="a unit (compound) larger than its tier's patrol diameter cannot be kept whole: raise the limit",
    )
