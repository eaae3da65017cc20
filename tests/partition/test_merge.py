"""merge_small_grids: a sliver grid folds into the neighbour it borders most, within the cap and its community."""

import numpy as np
import shapely

from geogrid.partition.aggregate import build_graph
from geogrid.partition.merge import merge_small_grids


def _layout():
    squares = [shapely.box(x, 0, x + 500, 500) for x in (0, 500, 1000, 1500)]
    sliver = shapely.box(0, -20, 1000, 0)  # under squares 0 and 1 only
    blocks = np.array([*squares, sliver], dtype=object)
    pairs, w = [], []
    for i in range(len(blocks)):
        for j in range(i + 1, len(blocks)):
            shared = shapely.length(shapely.intersection(shapely.boundary(blocks[i]), shapely.boundary(blocks[j])))
            if shared > 0:
                pairs.append((i, j))
                w.append(float(shared))
    return blocks, np.array(pairs), np.array(w)


def _run(cap: float, comm: np.ndarray):
    blocks, pairs, w = _layout()
    g = build_graph(blocks, pairs)
    grid_of = np.array([0, 0, 1, 1, 2])
    tier = np.array(["A"] * 5, dtype=object)
    return merge_small_grids(
        g, grid_of, tier, comm, np.ones(5, dtype=bool), shapely.length(blocks), pairs, w,
        {"A": cap}, {"A": 0.5e6}, {"A": 0.7e6},
    )  # fmt: skip


def test_sliver_joins_the_grid_it_borders():
    grid_of, tier = _run(3000.0, np.zeros(5, dtype=int))
    assert grid_of[4] == grid_of[0] == grid_of[1]
    assert grid_of[2] == grid_of[3] != grid_of[0]
    assert len(set(grid_of.tolist())) == 2
    assert list(tier) == ["A"] * 5


def test_sliver_stays_when_the_union_breaks_the_cap():
    grid_of, _ = _run(1000.0, np.zeros(5, dtype=int))
    assert len(set(grid_of.tolist())) == 3


def test_sliver_never_crosses_a_community():
    grid_of, _ = _run(3000.0, np.array([0, 0, 0, 0, 1]))
    assert len(set(grid_of.tolist())) == 3
