"""Adjacency graphs of polygon coverages: neighbour pairs, connected components, heaviest neighbour.

Why one module: blocks, tier patches and grids are all "polygons that share edges"; every stage asks the same two
questions — which ones hang together, and which neighbour shares the most border — so they are answered once here.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SMALL_GRAPH = 400
"""Graphs up to this many nodes are labelled by a union-find in Python (no sparse-matrix overhead)."""


def adjacency(edges: np.ndarray, sides: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour pairs ``(i, j)`` with ``i < j`` (one row per pair) and the length of border they share.

    ``sides`` holds the polygon left and right of each edge (-1 = outside), as ``face_sides`` returns it.
    """
    # edges with a polygon on both sides, and two different ones
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0) & (sides[:, 0] != sides[:, 1])
    pairs = np.sort(sides[inner], axis=1)
    if len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    # one row per pair; border lengths summed over the pair's edges
    pairs, inv = np.unique(pairs, axis=0, return_inverse=True)
    return pairs, np.bincount(inv.ravel(), weights=shapely.length(edges[inner]), minlength=len(pairs))


def components(n: int, pairs: np.ndarray, key: np.ndarray | None = None) -> np.ndarray:
    """Connected-component label per node of the graph ``pairs`` (n nodes), following only pairs with equal ``key``.

    With ``key`` = community × tier, the components are the groups of blocks one set of grids may draw from.

    >>> components(4, np.array([[0, 1], [1, 2], [2, 3]]), key=np.array([7, 7, 8, 8])).tolist()
    [0, 0, 1, 1]
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if key is not None and len(pairs):
        pairs = pairs[key[pairs[:, 0]] == key[pairs[:, 1]]]
    if n <= SMALL_GRAPH:
        return _small_components(n, pairs)
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _small_components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Union-find for small graphs, labelled like scipy's (components numbered in order of their first node).

    Why: the splitline asks for the components of thousands of subgraphs of a few dozen blocks; scipy's sparse
    set-up costs a millisecond each, a plain union-find tens of microseconds.
    """
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(x) for x in range(n)], dtype=np.int64)
    return np.unique(roots, return_inverse=True)[1].ravel()


def heaviest_neighbour(
    src: np.ndarray, dst: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct ``src``: the ``dst`` it shares the largest total ``weight`` with (ties: smallest dst).

    Inputs are parallel arrays, one row per (source, neighbour, shared length) — repeated pairs add up. Returns
    (sources, their heaviest neighbour, that total weight).

    >>> heaviest_neighbour(np.array([0, 0, 0, 1]), np.array([5, 6, 5, 5]), np.array([1.0, 1.5, 1.0, 2.0]))
    (array([0, 1]), array([5, 5]), array([2., 2.]))
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if len(src) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    # total weight per (src, dst) pair
    pair, inv = np.unique(np.column_stack([src, dst]), axis=0, return_inverse=True)
    total = np.bincount(inv.ravel(), weights=np.asarray(weight, dtype=float), minlength=len(pair))
    # per src, the heaviest pair first: sort by src, then by descending weight, then by dst
    order = np.lexsort((pair[:, 1], -total, pair[:, 0]))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order[1:], 0] != pair[order[:-1], 0]
    best = order[first]
    return pair[best, 0], pair[best, 1], total[best]


def first_value(labels: np.ndarray, values: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """``values`` at the first occurrence of each label in ``uniq`` (sorted unique labels)."""
    order = np.argsort(labels, kind="stable")
    _, start = np.unique(labels[order], return_index=True)
    return values[order[start]][np.searchsorted(np.unique(labels), uniq)]
