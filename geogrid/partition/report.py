"""Stage 10, ``build_report``: what the plan is and how well it meets the guarantees, measured on the result.

Why measured here and not carried from the stages: the report is what a planner (and a reviewer) trusts, so every
figure is computed from the final grid polygons and the input linework with ``geogrid.metrics``. Besides the
figures it lists what a planner must look at: every straight cut with its length, the holes kept out, tier
islands, and what the input checks found or repaired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.crs import lonlat_of
from geogrid.geometry import lines_only, near
from geogrid.metrics.borders import STEP_M, segment_pieces
from geogrid.metrics.compactness import area_cv, max_mean_ratio, polsby_popper, reock
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Coverage, Linework
from geogrid.partition.grids import Grids
from geogrid.partition.inputs import Inputs
from geogrid.partition.merge import MIN_PP, MIN_SIZE
from geogrid.partition.sizes import Sizer
from geogrid.partition.tiering import tier_source

TOL_M = 15.0
"""A border piece within this distance of a road centreline counts as on the centreline."""
KINDS = ("centerline", "community_border", "barrier", "path", "straight_cut")
"""What an internal border piece follows, in order of precedence."""


@dataclass
class GridMetrics:
    """Per-grid figures (one row per grid, grid-id order)."""

    area_m2: np.ndarray
    diameter_m: np.ndarray
    polsby_popper: np.ndarray
    reock: np.ndarray
    road_share: np.ndarray
    n_blocks: np.ndarray
    weight: np.ndarray
    """Workload inside (0 without weights)."""
    counted_area_m2: np.ndarray
    """Area outside the excluded land."""
    size: np.ndarray
    """Size in units of the tier's target grid (what was balanced)."""


@dataclass
class Borders:
    """Grid borders cut into ≤ 5 m pieces: the edge each comes from, its length, the grid on each side (-1 =
    outside) and what it follows (index into ``KINDS``)."""

    edges: np.ndarray
    edge_of: np.ndarray
    length: np.ndarray
    sides: np.ndarray
    kind: np.ndarray

    @property
    def internal(self) -> np.ndarray:
        return (self.sides[:, 0] >= 0) & (self.sides[:, 1] >= 0)


def borders(grids: Grids, cov: Coverage, lw: Linework, inp: Inputs) -> Borders:
    """Every edge between two grids (or a grid and the outside), in pieces, each classified by what it follows."""
    grid_side = np.where(cov.sides >= 0, grids.plan.grid_of[np.maximum(cov.sides, 0)], -1)
    between = grid_side[:, 0] != grid_side[:, 1]
    edges = cov.edges[between]
    mids, length, edge_of = segment_pieces(edges, STEP_M)
    pts = shapely.points(mids)
    kind = np.full(len(pts), len(KINDS) - 1, dtype=np.int64)
    # first match wins: a centreline, else a community border, a barrier, a path; else it is a straight cut
    comm_lines = lines_only(shapely.boundary(inp.communities)) if len(inp.communities) else np.empty(0)
    for k, (targets, tol) in reversed(
        list(enumerate([(lw.centrelines, TOL_M), (comm_lines, 1.0), (inp.barrier_lines, 1.0), (inp.minor_lines, 1.0)]))
    ):
        kind[near(pts, targets, tol)] = k
    return Borders(edges, edge_of, length, grid_side[between][edge_of], kind)


def grid_metrics(grids: Grids, b: Borders, sizer: Sizer) -> GridMetrics:
    """Area, workload, diameter, compactness and the share of each grid's outline on a road centreline."""
    n = len(grids)
    total, on = np.zeros(n), np.zeros(n)
    for col in (0, 1):
        m = b.sides[:, col] >= 0
        np.add.at(total, b.sides[m, col], b.length[m])
        np.add.at(on, b.sides[m, col], b.length[m] * (b.kind[m] == 0))
    return GridMetrics(
        area_m2=shapely.area(grids.geoms),
        diameter_m=diameters(grids.geoms),
        polsby_popper=polsby_popper(grids.geoms),
        reock=reock(grids.geoms),
        road_share=np.where(total > 0, on / np.maximum(total, 1e-12), 0.0),
        n_blocks=np.bincount(grids.plan.grid_of, minlength=n),
        weight=sizer.weight(grids.geoms),
        counted_area_m2=sizer.counted_area(grids.geoms),
        size=sizer(grids.geoms, grids.tier),
    )


def straight_cut_lines(b: Borders) -> np.ndarray:
    """The straight cuts as lines: border edges along which pieces follow nothing, merged end to end."""
    straight = b.internal & (b.kind == len(KINDS) - 1)
    per_edge = np.bincount(b.edge_of[straight], weights=b.length[straight], minlength=len(b.edges))
    if not (per_edge > 1.0).any():
        return np.empty(0, dtype=object)
    return lines_only(shapely.get_parts(shapely.line_merge(shapely.union_all(b.edges[per_edge > 1.0]))))


def _internal_border(b: Borders, cut_lines: np.ndarray, inp: Inputs) -> dict:
    """Internal border length, the share following each kind of line, and every straight cut with its length."""
    length, kind = b.length[b.internal], b.kind[b.internal]
    total = float(length.sum())
    shares = {k: round(float(length[kind == i].sum() / total), 4) if total > 0 else 0.0 for i, k in enumerate(KINDS)}
    cuts = []
    for line in sorted(cut_lines, key=lambda g: -g.length):
        lon, lat = lonlat_of(shapely.line_interpolate_point(line, 0.5, normalized=True), inp.metric)
        cuts.append({"length_m": round(float(line.length), 1), "lon": round(lon, 6), "lat": round(lat, 6)})
    return {
        "length_km": round(total / 1000.0, 3),
        "within_15m_of_centerline": shares["centerline"] if total > 0 else 1.0,
        "on_community_border_only": shares["community_border"],
        "on_barrier_only": shares["barrier"],
        "on_path_only": shares["path"],
        "straight_cut": shares["straight_cut"],
        "straight_cuts": cuts,
    }


def _tiers(grids: Grids, m: GridMetrics, inp: Inputs, weighted: bool) -> dict:
    """Per tier: count, mean area, area (and workload) CV and max/mean, largest diameter, compactness."""
    out = {}
    for tn in sorted(set(grids.tier)):
        sel = grids.tier == tn
        row = {
            "grids": int(sel.sum()),
            "mean_area_km2": round(float(m.area_m2[sel].mean() / 1e6), 4),
            "area_cv": round(area_cv(m.area_m2[sel]), 4),
            "max_mean_ratio": round(max_mean_ratio(m.area_m2[sel]), 3),
            "max_diameter_m": round(float(m.diameter_m[sel].max()), 1),
            "diameter_limit_m": inp.config.tiers[tn].max_diameter_m,
            "polsby_popper_mean": round(float(m.polsby_popper[sel].mean()), 4),
            "polsby_popper_min": round(float(m.polsby_popper[sel].min()), 4),
            "reock_mean": round(float(m.reock[sel].mean()), 4),
            "min_size_of_target": round(float(m.size[sel].min()), 4),
        }
        if len(inp.exclude):
            row["counted_area_cv"] = round(area_cv(m.counted_area_m2[sel]), 4)
        if weighted:
            row |= {"mean_weight": round(float(m.weight[sel].mean()), 2), "weight_cv": round(area_cv(m.weight[sel]), 4)}
        out[tn] = row
    return out


def tier_islands(grids: Grids, cov: Coverage) -> np.ndarray:
    """Grids with neighbours but none of their own tier (isolated islands of a tier inside another)."""
    gp = grids.plan.grid_of[cov.pairs] if len(cov.pairs) else np.empty((0, 2), dtype=np.int64)
    gp = gp[gp[:, 0] != gp[:, 1]]
    same = grids.tier[gp[:, 0]] == grids.tier[gp[:, 1]]
    has_nb, has_same = np.zeros(len(grids), dtype=bool), np.zeros(len(grids), dtype=bool)
    has_nb[gp.ravel()] = True
    has_same[gp[same].ravel()] = True
    return np.flatnonzero(has_nb & ~has_same)


def _never_junk(grids: Grids, m: GridMetrics, cov: Coverage, inp: Inputs) -> dict:
    """The never-junk checks as measured on the result."""
    islands = tier_islands(grids, cov)
    return {
        "all_single_valid_polygons": bool(shapely.is_valid(grids.geoms).all()),
        "min_size_of_target": round(float(m.size.min()), 4),
        "size_floor": MIN_SIZE,
        "polsby_popper_min": round(float(m.polsby_popper.min()), 4),
        "polsby_popper_floor": MIN_PP,
        "tier_islands": [str(c) for c in grids.code[islands]],
    }


def build_report(grids: Grids, cov: Coverage, lw: Linework, inp: Inputs, sizer: Sizer):
    """The plan report (JSON-ready), the per-grid metrics the output layer carries, and the straight cuts (lines)."""
    b = borders(grids, cov, lw, inp)
    m = grid_metrics(grids, b, sizer)
    cut_lines = straight_cut_lines(b)
    blocks = grids.plan.blocks
    union = shapely.coverage_union_all(grids.geoms)
    tiers = _tiers(grids, m, inp, len(inp.weight) > 0)
    pp, rk = m.polsby_popper, m.reock
    return (
        {
            "metric_crs": f"EPSG:{inp.metric.to_epsg()}" if inp.metric.to_epsg() else inp.metric.name,
            "preset": inp.config.preset,
            "balance": inp.config.balance,
            "grids": int(len(grids)),
            "blocks": int(len(blocks)),
            "communities": int(len(inp.community_codes)),
            "tier_source": tier_source(blocks),
            "area_km2": round(inp.area_m2 / 1e6, 4),
            "coverage": round(float(shapely.area(shapely.intersection(union, inp.boundary)) / inp.area_m2), 6),
            "overlap_m2": round(float(m.area_m2.sum() - shapely.area(union)), 3),
            "outside_m2": round(float(shapely.area(shapely.difference(union, inp.boundary))), 3),
            "tiers": tiers,
            "polsby_popper_mean": round(float(pp.mean()), 4),
            "polsby_popper_min": round(float(pp.min()), 4),
            "reock_mean": round(float(rk.mean()), 4),
            "internal_border": _internal_border(b, cut_lines, inp),
            "splits": {"path": int((blocks.origin == 1).sum()), "straight": int((blocks.origin == 2).sum())},
            "never_junk": _never_junk(grids, m, cov, inp),
            "targets": {
                "area_cv_per_tier_le_0.20": all(v["area_cv"] <= 0.20 for v in tiers.values()),
                "polsby_popper_min_ge_0.20": bool(pp.min() >= 0.20),
                "reock_mean_ge_0.45": bool(rk.mean() >= 0.45),
            },
            **inp.findings,
        },
        m,
        cut_lines,
    )
