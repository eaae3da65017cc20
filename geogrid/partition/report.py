"""Stage 8, ``build_report``: what the plan is and how well it meets the guarantees, measured on the result.

Why measured here and not carried from the stages: the report is what a planner (and a reviewer) trusts, so every
figure is computed from the final grid polygons and the input linework with ``geogrid.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.geometry import lines_only, near
from geogrid.metrics.borders import STEP_M, segment_pieces
from geogrid.metrics.compactness import area_cv, max_mean_ratio, polsby_popper, reock
from geogrid.metrics.size import diameters
from geogrid.partition.blocks import Coverage, Linework
from geogrid.partition.grids import Grids
from geogrid.partition.inputs import Inputs
from geogrid.partition.tiering import tier_source

TOL_M = 15.0
"""A border piece within this distance of a road centreline counts as on the centreline."""


@dataclass
class GridMetrics:
    """Per-grid figures (one row per grid, grid-id order)."""

    area_m2: np.ndarray
    diameter_m: np.ndarray
    polsby_popper: np.ndarray
    reock: np.ndarray
    road_share: np.ndarray
    n_blocks: np.ndarray


@dataclass
class BorderPieces:
    """Grid borders cut into ≤ 5 m pieces: length, the grid on each side (-1 = outside), near a centreline."""

    length: np.ndarray
    sides: np.ndarray
    points: np.ndarray
    on_road: np.ndarray


def border_pieces(grids: Grids, cov: Coverage, lw: Linework) -> BorderPieces:
    """Every edge between two grids (or a grid and the outside) cut into pieces and tested against centrelines."""
    grid_of = grids.plan.grid_of
    grid_side = np.where(cov.sides >= 0, grid_of[np.maximum(cov.sides, 0)], -1)
    between = grid_side[:, 0] != grid_side[:, 1]
    mids, piece, pidx = segment_pieces(cov.edges[between], STEP_M)
    points = shapely.points(mids)
    return BorderPieces(piece, grid_side[between][pidx], points, near(points, lw.centrelines, TOL_M))


def grid_metrics(grids: Grids, pieces: BorderPieces) -> GridMetrics:
    """Area, diameter, compactness and the share of each grid's outline on a road centreline."""
    n = len(grids)
    total, on = np.zeros(n), np.zeros(n)
    for col in (0, 1):
        m = pieces.sides[:, col] >= 0
        np.add.at(total, pieces.sides[m, col], pieces.length[m])
        np.add.at(on, pieces.sides[m, col], pieces.length[m] * pieces.on_road[m])
    return GridMetrics(
        area_m2=shapely.area(grids.geoms),
        diameter_m=diameters(grids.geoms),
        polsby_popper=polsby_popper(grids.geoms),
        reock=reock(grids.geoms),
        road_share=np.where(total > 0, on / np.maximum(total, 1e-12), 0.0),
        n_blocks=np.bincount(grids.plan.grid_of, minlength=n),
    )


def _internal_border(pieces: BorderPieces, lw: Linework, inp: Inputs) -> dict:
    """Internal border length and the share of it on centrelines, community borders, barriers, paths or cuts."""
    internal = (pieces.sides[:, 0] >= 0) & (pieces.sides[:, 1] >= 0)
    length, pts, on_road = pieces.length[internal], pieces.points[internal], pieces.on_road[internal]
    comm_lines = lines_only(shapely.boundary(inp.communities)) if len(inp.communities) else np.empty(0)
    rest = ~on_road
    on_comm, on_bar, on_minor = (np.zeros(len(pts), dtype=bool) for _ in range(3))
    on_comm[rest] = near(pts[rest], comm_lines, 1.0)
    on_bar[rest] = near(pts[rest], inp.barrier_lines, 1.0)
    on_minor[rest] = near(pts[rest], inp.minor_lines, 1.0)
    total = float(length.sum())

    def share(mask: np.ndarray) -> float:
        return round(float(length[mask].sum() / total), 4) if total > 0 else 1.0

    return {
        "length_km": round(total / 2000.0, 3),
        "within_15m_of_centerline": share(on_road),
        "on_community_border_only": share(~on_road & on_comm),
        "on_barrier_only": share(~on_road & ~on_comm & on_bar),
        "on_path_only": share(~on_road & ~on_comm & ~on_bar & on_minor),
        "straight_cut": share(~on_road & ~on_comm & ~on_bar & ~on_minor),
    }


def _tiers(grids: Grids, m: GridMetrics, inp: Inputs) -> dict:
    """Per tier: count, mean area, area CV and max/mean, largest diameter, compactness."""
    out = {}
    for tn in sorted(set(grids.tier)):
        sel = grids.tier == tn
        out[tn] = {
            "grids": int(sel.sum()),
            "mean_area_km2": round(float(m.area_m2[sel].mean() / 1e6), 4),
            "area_cv": round(area_cv(m.area_m2[sel]), 4),
            "max_mean_ratio": round(max_mean_ratio(m.area_m2[sel]), 3),
            "max_diameter_m": round(float(m.diameter_m[sel].max()), 1),
            "diameter_limit_m": inp.config.tiers[tn].max_diameter_m,
            "polsby_popper_mean": round(float(m.polsby_popper[sel].mean()), 4),
            "polsby_popper_min": round(float(m.polsby_popper[sel].min()), 4),
            "reock_mean": round(float(m.reock[sel].mean()), 4),
        }
    return out


def build_report(grids: Grids, cov: Coverage, lw: Linework, inp: Inputs) -> tuple[dict, GridMetrics]:
    """The plan report (JSON-ready) and the per-grid metrics the output layer carries."""
    pieces = border_pieces(grids, cov, lw)
    m = grid_metrics(grids, pieces)
    blocks = grids.plan.blocks
    union = shapely.coverage_union_all(grids.geoms)
    tiers = _tiers(grids, m, inp)
    pp, rk = m.polsby_popper, m.reock
    return {
        "metric_crs": f"EPSG:{inp.metric.to_epsg()}" if inp.metric.to_epsg() else inp.metric.name,
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
        "internal_border": _internal_border(pieces, lw, inp),
        "splits": {"path": int((blocks.origin == 1).sum()), "straight": int((blocks.origin == 2).sum())},
        "targets": {
            "area_cv_per_tier_le_0.15": all(v["area_cv"] <= 0.15 for v in tiers.values()),
            "polsby_popper_mean_ge_0.35": bool(pp.mean() >= 0.35),
            "polsby_popper_min_ge_0.20": bool(pp.min() >= 0.20),
            "reock_mean_ge_0.45": bool(rk.mean() >= 0.45),
        },
        **inp.findings,
    }, m
