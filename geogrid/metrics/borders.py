"""Border metrics: how much of a set of lines lies near road centrelines (or other reference lines)."""

from __future__ import annotations

import numpy as np
import shapely

STEP_M = 5.0


def segment_pieces(lines: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut lines into pieces of at most ``step`` m: (midpoints (n, 2), piece lengths, line index).

    Linear in the number of vertices (``segmentize`` + consecutive vertices), unlike repeated interpolation.
    """
    dense = shapely.segmentize(np.asarray(lines, dtype=object), step)
    coords, idx = shapely.get_coordinates(dense, return_index=True)
    same = idx[:-1] == idx[1:]
    a, b = coords[:-1][same], coords[1:][same]
    seg = np.hypot(*(b - a).T)
    keep = seg > 0
    return ((a + b) / 2.0)[keep], seg[keep], idx[:-1][same][keep]


def near_mask(lines: np.ndarray, targets: np.ndarray, tol: float, step: float = STEP_M):
    """Cut ``lines`` into pieces of ≤ ``step`` m; return (piece lengths, line index, near-target flag per piece).

    The flag is "the piece's midpoint lies within ``tol`` m of a target line": a length-weighted sample whose
    error is below ``step``/2 per piece end. Pieces follow the lines' vertices, so no piece spans a corner.
    """
    lines = np.asarray(lines, dtype=object)
    if len(lines) == 0:
        return np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    mids, piece, idx = segment_pieces(lines, step)
    near = np.zeros(len(idx), dtype=bool)
    if len(targets):
        qi, _ = shapely.STRtree(np.asarray(targets, dtype=object)).query(
            shapely.points(mids), predicate="dwithin", distance=tol
        )
        near[qi] = True
    return piece, idx, near


def share_within(lines: np.ndarray, targets: np.ndarray, tol: float = 15.0) -> float:
    """Share of the total length of ``lines`` lying within ``tol`` m of ``targets`` (1.0 when there are no lines).

    This is the guarantee "≥ 95 % of internal border length lies within 15 m of a road centreline".
    """
    piece, _, near = near_mask(lines, targets, tol)
    total = piece.sum()
    return float(piece[near].sum() / total) if total > 0 else 1.0


def road_share(polygons: np.ndarray, centerlines: np.ndarray, tol: float = 15.0) -> np.ndarray:
    """Per polygon: share of its perimeter within ``tol`` m of a road centreline (momepy-style per-cell ratio)."""
    rings = shapely.boundary(np.asarray(polygons, dtype=object))
    piece, idx, near = near_mask(rings, centerlines, tol)
    tot = np.bincount(idx, weights=piece, minlength=len(rings))
    on = np.bincount(idx, weights=piece * near, minlength=len(rings))
    return np.where(tot > 0, on / np.maximum(tot, 1e-12), 0.0)
