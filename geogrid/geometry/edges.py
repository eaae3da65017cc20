"""Edges of a polygon coverage: which polygon lies on each side of each edge, and points sampled along lines.

Why: adjacency between blocks (and between grids) is "shares an edge of positive length"; computing it from the
noded linework once gives both the neighbour pairs and the shared border lengths, with no pairwise intersections.
"""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.geometry.parts import lines_only
from geogrid.metrics.borders import segment_pieces


def first_segment(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first vertex, second vertex) of each line as (n, 2) arrays, without creating point geometries."""
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    start = np.searchsorted(idx, np.arange(len(lines)))
    return coords[start], coords[start + 1]


def edge_sides(edges: np.ndarray, polygons: np.ndarray, tree: shapely.STRtree | None = None) -> np.ndarray:
    """For each line edge, the index of the polygon on its left and on its right (-1 when none): shape (n, 2).

    Probes a point 1 cm to each side of the middle of the edge's first segment.
    """
    n = len(edges)
    out = np.full((n, 2), -1, dtype=np.int64)
    if n == 0 or len(polygons) == 0:
        return out
    p0, p1 = first_segment(edges)
    mid = (p0 + p1) / 2.0
    d = p1 - p0
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1.0
    # probe distance: 1 cm, or a quarter of a very short segment
    eps = np.minimum(0.01, norm * 0.25)
    nrm = np.column_stack([-d[:, 1], d[:, 0]]) / norm[:, None] * eps[:, None]
    probes = shapely.points(np.vstack([mid + nrm, mid - nrm]))
    tree = tree or shapely.STRtree(polygons)
    pi, fi = tree.query(probes, predicate="within")
    side = np.full(2 * n, -1, dtype=np.int64)
    side[pi] = fi
    out[:, 0] = side[:n]
    out[:, 1] = side[n:]
    return out


def _seg_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One hashable 32-byte key per directed segment (a → b)."""
    return np.ascontiguousarray(np.column_stack([a, b])).view(np.dtype((np.void, 32))).ravel()


def face_sides(edges: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Like :func:`edge_sides` for faces polygonized from ``edges``: exact and fast, by matching directed segments.

    Polygonize copies the noded coordinates into the face rings, so the first segment of an edge appears, in some
    direction, in the ring of each face beside it; with exteriors counter-clockwise and holes clockwise the face
    lies on the left of its ring. Edges not matched (none expected) fall back to probing.
    """
    n = len(edges)
    out = np.full((n, 2), -1, dtype=np.int64)
    if n == 0 or len(faces) == 0:
        return out
    # every directed ring segment of every face, keyed, with the face it belongs to
    oriented = shapely.orient_polygons(np.asarray(faces, dtype=object), exterior_cw=False)
    rings, fidx = shapely.get_rings(oriented, return_index=True)
    coords, ridx = shapely.get_coordinates(rings, return_index=True)
    same = ridx[:-1] == ridx[1:]
    keys = _seg_keys(coords[:-1][same], coords[1:][same])
    owner = fidx[ridx[:-1][same]]
    order = np.argsort(keys)
    keys, owner = keys[order], owner[order]
    # look up each edge's first segment forwards (face on its left) and backwards (face on its right)
    p0, p1 = first_segment(edges)
    for col, (a, b) in enumerate(((p0, p1), (p1, p0))):
        q = _seg_keys(a, b)
        pos = np.clip(np.searchsorted(keys, q), 0, len(keys) - 1)
        hit = keys[pos] == q
        out[hit, col] = owner[pos[hit]]
    miss = (out < 0).all(axis=1)
    if miss.any():
        out[miss] = edge_sides(edges[miss], faces)
    return out


def sample_lines(lines: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points about every ``spacing`` metres along each line, never on its end nodes; (points, line index)."""
    mids, _, idx = segment_pieces(lines, spacing)
    return shapely.points(mids), idx


def coverage_edges(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The noded linework of a polygon coverage and, per edge, the polygons on either side (-1 = outside)."""
    bounds = shapely.boundary(np.asarray(polygons, dtype=object))
    edges = lines_only(shapely.get_parts(shapely.union_all(bounds)))
    sides = edge_sides(edges, polygons)
    return edges, sides


def near(geoms: np.ndarray, targets: np.ndarray, tol: float) -> np.ndarray:
    """True for each geometry within ``tol`` m of any target geometry."""
    out = np.zeros(len(geoms), dtype=bool)
    if len(geoms) and len(targets):
        qi, _ = shapely.STRtree(np.asarray(targets, dtype=object)).query(geoms, predicate="dwithin", distance=tol)
        out[qi] = True
    return out
