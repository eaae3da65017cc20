"""Second split pass: large or elongated blocks under the oversize threshold are cut towards the tier target."""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.metrics.compactness import reock
from geogrid.partition.split import LARGE_FACTOR, split_large

CRS = 32650
X0, Y0 = 500_000.0, 3_400_000.0


def _run(blocks, cap, target, paths=(), eligible=None):
    blocks = np.array(blocks, dtype=object)
    n = len(blocks)
    elig = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible)
    return split_large(blocks, np.full(n, cap), np.full(n, target), np.array(list(paths), dtype=object), elig)


def test_large_block_cut_into_pieces_near_target():
    block = shapely.box(X0, Y0, X0 + 1800, Y0 + 1000)  # 1.8 km², B-like target 1.0 km²
    out, src, kind = _run([block], 3000.0, 1.0e6)
    assert len(out) >= 2
    assert (shapely.area(out) <= LARGE_FACTOR * 1.0e6).all()
    assert (shapely.area(out) >= 0.3 * 1.0e6).all()
    assert abs(shapely.area(shapely.union_all(out)) - block.area) < 1.0
    assert (src == 0).all() and (kind == 2).all()
    # the cut runs across the long (x) axis: every piece spans the full short side
    heights = np.array([b[3] - b[1] for b in shapely.bounds(out)])
    assert np.allclose(heights, 1000.0)


def test_cut_follows_an_internal_path():
    block = shapely.box(X0, Y0, X0 + 1800, Y0 + 1000)
    path = shapely.LineString([(X0 + 820, Y0 - 5), (X0 + 820, Y0 + 1005)])
    out, _, _ = _run([block], 3000.0, 1.0e6, paths=[path])
    assert len(out) == 2
    inner = shapely.intersection(shapely.boundary(out[0]), shapely.boundary(out[1]))
    assert shapely.length(inner) > 900
    assert shapely.hausdorff_distance(inner, shapely.intersection(path, block)) <= 10.0


def test_elongated_block_cut_and_small_or_ineligible_blocks_kept():
    strip = shapely.box(X0, Y0, X0 + 2000, Y0 + 300)  # 0.6 km², Reock well below 0.3, longer than cap / 2
    assert reock(np.array([strip]))[0] < 0.3
    compact = shapely.box(X0, Y0 + 400, X0 + 700, Y0 + 1100)  # 0.49 km², under 1.3 × target
    big = shapely.box(X0 + 3000, Y0, X0 + 4800, Y0 + 1000)  # large, but a path-split piece: not eligible
    out, src, kind = _run([strip, compact, big], 3000.0, 1.0e6, eligible=[True, True, False])
    assert (src == 0).sum() >= 2
    assert (kind[src == 0] == 2).all()
    assert (np.asarray([2.0 * shapely.minimum_bounding_radius(p) for p in out[src == 0]]) <= 1500.0).all()
    assert shapely.equals(out[src == 1][0], compact) and (kind[src == 1] == 0).all()
    assert shapely.equals(out[src == 2][0], big) and (kind[src == 2] == 0).all()
