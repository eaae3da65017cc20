"""Stage 7, ``merge_grids``: no junk leaves the engine — small, sliver and island grids are folded away.

Why: a group (one community and tier) smaller than its tier's target, or a long block along a river or a wide
median, becomes a grid far below the target size or with a Polsby-Popper score near zero; a lone grid of one tier
inside another is an island no planner would draw. Each is merged into the neighbour it shares most border with,
provided the union stays under the receiver tier's patrol diameter, inside one community, and (for small grids)
does not overshoot the receiver's size range. Only rule tiers may change; a planner's tier zone is kept.

Sizes are in target units (``Plan.size``). Perimeters come from block perimeters minus twice the shared block edges,
so a merge's Polsby-Popper score is known without a geometry union; the loop runs over the few candidates only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely

from geogrid.crs import lonlat_of
from geogrid.metrics.compactness import polsby_popper_ratio
from geogrid.metrics.size import diameters
from geogrid.partition.aggregate import Plan
from geogrid.partition.blocks import Coverage
from geogrid.partition.errors import PartitionError
from geogrid.partition.inputs import Inputs
from geogrid.partition.splitline import BlockGraph, bisect

SMALL = 0.5
"""A grid below this share of its tier's target size is a merge candidate."""
SLIVER_PP = 0.2
"""A grid below this Polsby-Popper score is a merge candidate ..."""
SLIVER_HIGH = 1.6
"""... and may make a union up to this many target grids (one large grid is better than a strip)."""
MIN_SIZE = 0.05
"""Never junk: no grid below this share of its tier's target size — by what is balanced and by area both (a grid of
uncounted land — mountain, water, no workload — exists only because of the diameter cap, and may weigh nothing)."""
MIN_PP = 0.15
"""Never junk: no grid below this Polsby-Popper score."""


@dataclass
class _State:
    """The grids during merging: members, sizes, outlines and who borders whom (by border length)."""

    members: list[list[int]]
    size: np.ndarray
    area_size: np.ndarray
    """Area in units of the tier's target area (the plain-area side of the size floor)."""
    area: np.ndarray
    perim: np.ndarray
    tier: np.ndarray
    comm: np.ndarray
    retier: np.ndarray
    alive: np.ndarray
    shared: list[dict[int, float]]
    hull_pts: list
    scale: dict
    """Per tier, the absolute size of one target grid (m² or weight units): sizes move between tiers through it."""
    area_scale: dict

    def size_in(self, k: int, tier: str) -> tuple[float, float]:
        """Grid ``k``'s size and area size in units of ``tier``'s target."""
        own = self.tier[k]
        return self.size[k] * self.scale[own] / self.scale[tier], self.area_size[k] * self.area_scale[
            own
        ] / self.area_scale[tier]


def _state(plan: Plan, cov: Coverage, sizer=None) -> _State:
    """Per-grid sums and the grid adjacency from the block arrays."""
    b, grid_of, ng = plan.blocks, plan.grid_of, plan.n_grids
    first = np.full(ng, -1)
    first[grid_of[::-1]] = np.arange(len(grid_of))[::-1]
    # perimeter of a grid = its blocks' perimeters minus twice the borders shared inside it
    gp = grid_of[cov.pairs] if len(cov.pairs) else np.empty((0, 2), dtype=np.int64)
    inside = gp[:, 0] == gp[:, 1]
    perim = np.bincount(grid_of, weights=shapely.length(b.geoms), minlength=ng)
    perim -= 2.0 * np.bincount(gp[inside, 0], weights=cov.pair_w[inside], minlength=ng)
    shared: list[dict[int, float]] = [{} for _ in range(ng)]
    for (x, y), w in zip(gp[~inside].tolist(), cov.pair_w[~inside].tolist(), strict=True):
        shared[x][y] = shared[x].get(y, 0.0) + w
        shared[y][x] = shared[y].get(x, 0.0) + w
    retier = np.ones(ng, dtype=bool)
    np.logical_and.at(retier, grid_of, b.rule_tier)
    order = np.argsort(grid_of, kind="stable")
    members = [m.tolist() for m in np.split(order, np.cumsum(np.bincount(grid_of, minlength=ng))[:-1])]
    hulls = shapely.get_coordinates(shapely.convex_hull(b.geoms), return_index=True)
    by_block = np.split(hulls[0], np.searchsorted(hulls[1], np.arange(1, len(b))))
    return _State(
        members=members,
        size=np.bincount(grid_of, weights=plan.size, minlength=ng),
        area_size=np.bincount(grid_of, weights=plan.area_size, minlength=ng),
        area=np.bincount(grid_of, weights=shapely.area(b.geoms), minlength=ng),
        perim=perim,
        tier=b.tier[first].copy(),
        comm=b.community[first],
        retier=retier,
        alive=np.ones(ng, dtype=bool),
        shared=shared,
        hull_pts=[np.vstack([by_block[x] for x in m]) for m in members],
        scale=tier_scales(sizer, b.tier, by_weight=True),
        area_scale=tier_scales(sizer, b.tier, by_weight=False),
    )


def tier_scales(sizer, tiers: np.ndarray, by_weight: bool) -> dict:
    """Absolute size of one target grid per tier (1 for every tier when no sizer is given)."""
    names = sorted(set(tiers.tolist()) | ({"A", "B", "C"} if sizer is None else set(sizer.inp.config.tiers)))
    if sizer is None:
        return dict.fromkeys(names, 1.0)
    arr = np.array(names, dtype=object)
    values = sizer.target_weight(arr) if by_weight and sizer.mode == "weight" else sizer.target_area(arr)
    return dict(zip(names, values.tolist(), strict=True))


def _union_diameter(st: _State, k: int, h: int) -> float:
    return float(diameters(np.array([shapely.multipoints(np.vstack([st.hull_pts[k], st.hull_pts[h]]))]))[0])


def _pp(st: _State, k: int) -> float:
    return float(polsby_popper_ratio(st.area[k], st.perim[k]))


def _fold(st: _State, k: int, h: int) -> None:
    """Merge grid ``k`` into grid ``h`` (its size counted in ``h``'s tier)."""
    w = st.shared[k].pop(h, 0.0)
    st.shared[h].pop(k, None)
    st.members[h] += st.members[k]
    st.members[k] = []
    size_k, area_k = st.size_in(k, st.tier[h])
    st.size[h] += size_k
    st.area_size[h] += area_k
    st.area[h] += st.area[k]
    st.perim[h] += st.perim[k] - 2.0 * w
    st.retier[h] = st.retier[h] and st.retier[k]
    pts = np.vstack([st.hull_pts[h], st.hull_pts[k]])
    st.hull_pts[h] = shapely.get_coordinates(shapely.convex_hull(shapely.multipoints(pts)))
    for x, wx in st.shared[k].items():
        st.shared[h][x] = st.shared[h].get(x, 0.0) + wx
        st.shared[x][h] = st.shared[x].get(h, 0.0) + wx
        st.shared[x].pop(k, None)
    st.shared[k] = {}
    st.alive[k] = False


def _best_receiver(st: _State, k: int, caps: dict, high: dict, ref: dict, must: bool) -> int:
    """The neighbour ``k`` should join (-1 = none): same community, tier allowed, under the cap and size limits.

    Scored on the size balance of the two grids before and after, and the union's Polsby-Popper score; ``must``
    (junk) drops the size limit and accepts any union under the cap.
    """
    best, best_h = None, -1
    pp_k = _pp(st, k)
    for h, w in st.shared[k].items():
        th = st.tier[h]
        if not st.alive[h] or st.comm[h] != st.comm[k] or (th != st.tier[k] and not st.retier[k]):
            continue
        union = st.size_in(k, th)[0] + st.size[h]
        limit = np.inf if must else (max(high[th], SLIVER_HIGH) if pp_k < SLIVER_PP else min(high[th], 1.3 * ref[th]))
        if union > limit:
            continue
        pp_u = float(polsby_popper_ratio(st.area[k] + st.area[h], st.perim[k] + st.perim[h] - 2.0 * w))
        rk, rh = ref[st.tier[k]], ref[th]
        before = ((st.size[k] - rk) / rk) ** 2 + ((st.size[h] - rh) / rh) ** 2  # each in its own tier's units
        after = ((union - rh) / rh) ** 2
        if not must and after > before and pp_u <= min(pp_k, _pp(st, h)):
            continue
        if _union_diameter(st, k, h) > caps[th]:
            continue
        score = (after - before) - pp_u
        if best is None or score < best:
            best, best_h = score, h
    return best_h


def _merge_pass(st: _State, candidates: np.ndarray, caps: dict, high: dict, must: bool) -> None:
    """Fold each candidate (smallest first) into its best receiver."""
    ref = {t: float(np.median(st.size[st.alive & (st.tier == t)])) for t in set(st.tier[st.alive])}
    for k in candidates[np.argsort(st.size[candidates], kind="stable")].tolist():
        if not st.alive[k]:
            continue
        h = _best_receiver(st, k, caps, high, ref, must)
        if h >= 0:
            _fold(st, k, h)


def whole_community(st_comm: np.ndarray, st_size: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Grids that are all of their community: small or not, they cannot grow without crossing its border."""
    comms, inv = np.unique(st_comm, return_inverse=True)
    grids_in = np.bincount(inv, weights=alive.astype(float), minlength=len(comms))
    return alive & (grids_in[inv] == 1)


def _junk(st: _State) -> np.ndarray:
    """Live grids that break the never-junk rules: below 5 % of a target (unless the grid is a whole community),
    or Polsby-Popper below 0.15."""
    pp = polsby_popper_ratio(st.area, st.perim)
    small = (np.maximum(st.size, st.area_size) < MIN_SIZE) & ~whole_community(st.comm, st.size, st.alive)
    return np.flatnonzero(st.alive & (small | (pp < MIN_PP)))


def _islands(st: _State, caps: dict) -> None:
    """A rule-tier grid with no neighbour of its tier takes the tier it borders most, if it fits that tier's cap."""
    for k in np.flatnonzero(st.alive & st.retier).tolist():
        nbrs = {h: w for h, w in st.shared[k].items() if st.alive[h]}
        if not nbrs or any(st.tier[h] == st.tier[k] for h in nbrs):
            continue
        by_tier: dict = {}
        for h, w in nbrs.items():
            by_tier[st.tier[h]] = by_tier.get(st.tier[h], 0.0) + w
        new = max(sorted(by_tier), key=by_tier.get)
        pts = st.hull_pts[k]
        if diameters(np.array([shapely.multipoints(pts)]))[0] <= caps[new]:
            st.size[k], st.area_size[k] = st.size_in(k, new)
            st.tier[k] = new


def merge_grids(plan: Plan, cov: Coverage, inp: Inputs, sizer=None) -> Plan:
    """Fold small and sliver grids, re-tier islands, and refuse a plan that would still hold junk.

    ``sizer`` (``sizes.Sizer``) converts sizes between tiers when a grid joins a neighbour of another tier.
    """
    cfg = inp.config
    if plan.n_grids <= 1:
        return plan
    st = _state(plan, cov, sizer)
    caps = {t: s.max_diameter_m for t, s in cfg.tiers.items()}
    high = {t: cfg.high_ratio(t) for t in cfg.tiers}
    if cfg.target_count is None:
        pp = polsby_popper_ratio(st.area, st.perim)
        _merge_pass(st, np.flatnonzero((st.size < SMALL) | (pp < SLIVER_PP)), caps, high, must=False)
        _islands(st, caps)
    _merge_pass(st, _junk(st), caps, high, must=True)
    junk = _junk(st)
    if len(junk):
        where = [_where(plan, st.members[k], inp) for k in junk]
        raise PartitionError(
            f"{len(junk)} grid(s) would be junk (below {MIN_SIZE:.0%} of a target grid or Polsby-Popper "
            f"< {MIN_PP}) and cannot join a neighbour of their community within the diameter limits",
            places=[w[0] for w in where],
            fix="check the community layer for slivers, or the tier limits",
            points=[w[1] for w in where],
        )
    alive = np.flatnonzero(st.alive)
    grid_of = np.empty(len(plan.grid_of), dtype=np.int64)
    tier = plan.blocks.tier.copy()
    for gid, k in enumerate(alive.tolist()):
        grid_of[st.members[k]] = gid
        tier[st.members[k]] = st.tier[k]
    if cfg.target_count is not None and len(alive) < cfg.target_count:
        grid_of = _restore_count(plan, cov, grid_of, cfg.target_count)
    return Plan(replace(plan.blocks, tier=tier), grid_of, plan.size, plan.area_size)


def _restore_count(plan: Plan, cov: Coverage, grid_of: np.ndarray, count: int) -> np.ndarray:
    """Give back the grids junk merges took (``target_count`` is a promise): halve the largest grids."""
    g = BlockGraph.of(plan.blocks, plan.size, cov.pairs, cov.pair_w)
    grid_of = grid_of.copy()
    while grid_of.max() + 1 < count:
        sizes = np.bincount(grid_of, weights=plan.size)
        many = np.bincount(grid_of) > 1
        if not many.any():
            raise PartitionError(f"target_count {count} cannot be met without junk grids; lower target_count")
        k = int(np.argmax(np.where(many, sizes, -np.inf)))
        m = np.flatnonzero(grid_of == k)
        grid_of[m[bisect(g, m, 0.5)]] = grid_of.max() + 1
    return grid_of


def _where(plan: Plan, members: list[int], inp: Inputs) -> tuple[str, tuple[float, float]]:
    """A readable place (community code, lon/lat, area) of a grid's blocks, and its lon/lat."""
    geom = shapely.union_all(plan.blocks.geoms[members])
    lon, lat = lonlat_of(shapely.point_on_surface(geom), inp.metric)
    code = inp.code_of(plan.blocks.community[members[:1]])[0]
    return f"community {code} near {lon:.5f}, {lat:.5f} ({shapely.area(geom):.0f} m²)", (lon, lat)
