"""Vectorised geometry helpers shared by the partition stages (grouped unions, edge sides, line sampling)."""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.metrics.borders import segment_pieces


def _explode(parts: np.ndarray, idx: np.ndarray, type_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Explode the parts of type ``type_id`` one level further, keeping each part's source index."""
    mask = shapely.get_type_id(parts) == type_id
    if not mask.any():
        return parts, idx
    sub, sidx = shapely.get_parts(parts[mask], return_index=True)
    return np.concatenate([parts[~mask], sub]), np.concatenate([idx[~mask], idx[mask][sidx]])


def _single_parts(geoms: np.ndarray, *multi_types: int) -> tuple[np.ndarray, np.ndarray]:
    """Parts of ``geoms`` with collections nested in collections (7) and the given multi types exploded too."""
    parts, idx = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    for type_id in (7, *multi_types):
        parts, idx = _explode(parts, idx, type_id)
    return parts, idx


def lines_only(geoms: np.ndarray, return_index: bool = False):
    """Explode ``geoms`` and keep the non-degenerate LineStrings (clipping can yield points and collections)."""
    parts, idx = _single_parts(geoms, 5)
    keep = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 1e-6)
    return (parts[keep], idx[keep]) if return_index else parts[keep]


def polygons_only(geoms: np.ndarray, return_index: bool = False):
    """Explode ``geoms`` into single Polygons with positive area."""
    parts, idx = _single_parts(geoms, 6)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    return (parts[keep], idx[keep]) if return_index else parts[keep]


def grouped_union(geoms: np.ndarray, labels: np.ndarray, coverage: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Union ``geoms`` per label; returns (unique labels, unions).

    Why: dissolving thousands of groups with a Python loop is slow; padding groups into 2-D arrays (bucketed by size)
    lets GEOS reduce every row in one call. ``coverage=True`` uses the fast coverage union, valid when the
    polygons are edge-matched (polygonize output is).
    """
    geoms = np.asarray(geoms, dtype=object)
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    uniq, start, counts = np.unique(lab, return_index=True, return_counts=True)
    out = np.empty(len(uniq), dtype=object)
    single = counts == 1
    out[single] = geoms[order[start[single]]]
    fn = shapely.coverage_union_all if coverage else shapely.union_all
    group_of = np.repeat(np.arange(len(uniq)), counts)
    pos = np.arange(len(lab)) - start[group_of]
    bucket = np.ceil(np.log2(np.maximum(counts, 1))).astype(int)
    for b in np.unique(bucket[~single]):
        rows = np.flatnonzero((bucket == b) & ~single)
        width = int(counts[rows].max())
        row_of_group = np.full(len(uniq), -1)
        row_of_group[rows] = np.arange(len(rows))
        sel = row_of_group[group_of] >= 0
        arr = np.full((len(rows), width), None, dtype=object)
        arr[row_of_group[group_of[sel]], pos[sel]] = geoms[order[sel]]
        out[rows] = fn(arr, axis=1)
    return uniq, out


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
    oriented = shapely.orient_polygons(np.asarray(faces, dtype=object), exterior_cw=False)
    rings, fidx = shapely.get_rings(oriented, return_index=True)
    coords, ridx = shapely.get_coordinates(rings, return_index=True)
    same = ridx[:-1] == ridx[1:]
    keys = _seg_keys(coords[:-1][same], coords[1:][same])
    owner = fidx[ridx[:-1][same]]
    order = np.argsort(keys)
    keys, owner = keys[order], owner[order]
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
