"""Dissolve many groups of polygons at once."""

from __future__ import annotations

import numpy as np
import shapely


def grouped_union(geoms: np.ndarray, labels: np.ndarray, coverage: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Union ``geoms`` per label; returns (unique labels, unions).

    Why: dissolving thousands of groups with a Python loop is slow; padding groups into 2-D arrays (bucketed by size)
    lets GEOS reduce every row in one call. ``coverage=True`` uses the fast coverage union, valid when the
    polygons are edge-matched (polygonize output is).
    """
    geoms = np.asarray(geoms, dtype=object)
    labels = np.asarray(labels)
    # sort by label: each group is one run of consecutive rows
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    uniq, start, counts = np.unique(lab, return_index=True, return_counts=True)
    out = np.empty(len(uniq), dtype=object)
    single = counts == 1
    out[single] = geoms[order[start[single]]]
    fn = shapely.coverage_union_all if coverage else shapely.union_all
    # position of every row inside its group, and a size bucket per group (powers of two) to bound the padding
    group_of = np.repeat(np.arange(len(uniq)), counts)
    pos = np.arange(len(lab)) - start[group_of]
    bucket = np.ceil(np.log2(np.maximum(counts, 1))).astype(int)
    for b in np.unique(bucket[~single]):
        rows = np.flatnonzero((bucket == b) & ~single)
        width = int(counts[rows].max())
        row_of_group = np.full(len(uniq), -1)
        row_of_group[rows] = np.arange(len(rows))
        sel = row_of_group[group_of] >= 0
        # one row per group, padded with None (ignored by the reduction)
        arr = np.full((len(rows), width), None, dtype=object)
        arr[row_of_group[group_of[sel]], pos[sel]] = geoms[order[sel]]
        out[rows] = fn(arr, axis=1)
    return uniq, out
