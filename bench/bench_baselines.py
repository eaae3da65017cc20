"""The two open-source baselines the partition benchmark measures geogrid against.

1. momepy enclosures (road faces clipped to the boundary, rivers as extra barriers; without buildings momepy's
   enclosed tessellation *is* the enclosures) aggregated by PySAL spopt max-p regions (area threshold, compact on
   block centroids).
2. GerryChain on the same enclosure graph: ``recursive_tree_part`` balanced spanning-tree seed, then
   ``SingleMetricOptimizer.short_bursts`` of ReCom moves minimising the cut length (cut edges weighted by the
   shared border length).

Both get the grid count geogrid produced, so plans are compared at equal size. Each function returns block labels;
the benchmark dissolves and evaluates them with the same code as geogrid's grids.
"""

from __future__ import annotations

import random
import time
from functools import partial

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely


def enclosure_blocks(roads: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, barriers=None) -> gpd.GeoDataFrame:
    """momepy enclosures of the raw network inside the boundary (every edge, as a planner would load it)."""
    import momepy

    extra = None
    if barriers is not None and len(barriers):
        # as lines: a river band becomes blocks of its own (as in geogrid) instead of a hole in the block graph
        extra = [gpd.GeoDataFrame(geometry=shapely.boundary(barriers.geometry.to_numpy()), crs=barriers.crs)]
    enc = momepy.enclosures(roads, limit=boundary, additional_barriers=extra, clip=True).explode(index_parts=False)
    enc = enc[shapely.get_type_id(enc.geometry.to_numpy()) == 3]
    enc = enc[enc.geometry.area > 1.0].reset_index(drop=True)
    return enc[["geometry"]]


def block_graph(blocks: gpd.GeoDataFrame) -> nx.Graph:
    """Rook adjacency (shared border, not a corner) with node ``area``/centroid and edge ``shared`` length."""
    from libpysal.weights import Rook

    geoms = blocks.geometry.to_numpy()
    w = Rook.from_dataframe(blocks, use_index=False, silence_warnings=True)
    i, j = np.array([(a, b) for a, nbrs in w.neighbors.items() for b in nbrs if a < b]).reshape(-1, 2).T
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
    graph = nx.Graph()
    cent = shapely.centroid(geoms)
    for n, (a, x, y) in enumerate(zip(shapely.area(geoms), shapely.get_x(cent), shapely.get_y(cent), strict=True)):
        graph.add_node(n, area=float(a), x=float(x), y=float(y))
    graph.add_edges_from((int(a), int(b), {"shared": float(s)}) for a, b, s in zip(i, j, shared, strict=True))
    return graph


def _attach_strays(blocks: gpd.GeoDataFrame, labels: np.ndarray) -> np.ndarray:
    """Give blocks left unlabelled (islands, small components) the label of the nearest labelled block."""
    stray = labels < 0
    if not stray.any():
        return labels
    geoms = blocks.geometry.to_numpy()
    tree = shapely.STRtree(geoms[~stray])
    idx = tree.nearest(geoms[stray])
    labels = labels.copy()
    labels[stray] = labels[~stray][idx]
    return labels


def maxp_labels(blocks: gpd.GeoDataFrame, graph: nx.Graph, k: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """spopt max-p: as many regions as possible, each with area ≥ 0.7 × (total / k); returns labels, info."""
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    np.random.seed(seed)
    random.seed(seed)
    frame = blocks.copy()
    frame["area"] = shapely.area(frame.geometry.to_numpy())
    cent = shapely.centroid(frame.geometry.to_numpy())
    frame["cx"], frame["cy"] = shapely.get_x(cent), shapely.get_y(cent)
    neighbors = {n: list(graph.neighbors(n)) for n in graph.nodes}
    w = W(neighbors, silence_warnings=True)
    threshold = 0.7 * float(frame["area"].sum()) / k
    model = MaxPHeuristic(frame, w, ["cx", "cy"], "area", threshold, top_n=2)
    model.solve()
    labels = np.asarray(model.labels_, dtype=int)
    labels = np.where(labels > 0, labels, -1)
    return _attach_strays(blocks, labels), {"threshold_m2": round(threshold), "p": int(model.p)}


def gerrychain_labels(
    blocks: gpd.GeoDataFrame, graph: nx.Graph, k: int, seed: int = 0, bursts: int = 50, burst_length: int = 10
) -> tuple[np.ndarray, dict]:
    """GerryChain: balanced spanning-tree seed, then ReCom short bursts minimising cut length."""
    from gerrychain import Graph, Partition, constraints, updaters
    from gerrychain.optimization import SingleMetricOptimizer
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree

    main = sorted(max(nx.connected_components(graph), key=len))
    sub = nx.convert_node_labels_to_integers(graph.subgraph(main).copy(), label_attribute="block")
    g = Graph.from_networkx(sub)
    total = sum(g.node_data(n)["area"] for n in g.nodes)
    ideal = total / k
    rng = random.Random(seed)
    # no split can be balanced tighter than the largest block allows (a river or park enclosure can exceed the ideal)
    floor = 1.05 * max(g.node_data(n)["area"] for n in g.nodes) / ideal - 1.0
    assignment, used_eps = None, None
    for eps in sorted({max(e, floor) for e in (0.1, 0.2, 0.4, 0.8)}):
        try:
            split = partial(bipartition_tree, max_attempts=500)
            assignment = recursive_tree_part(g, range(k), ideal, "area", eps, bipartition_tree_fn=split, rng=rng)
            used_eps = eps
            break
        except Exception:  # noqa: BLE001 - GerryChain raises several types when no balanced cut exists
            continue
    if assignment is None:
        widest = max(0.8, floor)
        raise RuntimeError(f"recursive_tree_part found no {k}-part split within ±{widest:.0%} of the ideal area")

    def cut_length(part: Partition) -> float:
        pg = part.graph
        return sum(pg.edge_data(pg.get_edge_id_from_edge(e))["shared"] for e in part["cut_edges"])

    initial = Partition(g, assignment, updaters={"area": updaters.Tally("area", alias="area")})
    proposal = partial(recom, pop_col="area", pop_target=ideal, epsilon=used_eps, node_repeats=2, rng=rng)
    optimizer = SingleMetricOptimizer(
        proposal,
        [constraints.within_percent_of_ideal_population(initial, used_eps, pop_key="area")],
        initial,
        cut_length,
        maximize=False,
        rng=rng,
    )
    t0 = time.perf_counter()
    seed_cut = cut_length(initial)
    for _ in optimizer.short_bursts(burst_length, bursts):
        pass
    best = optimizer.best_part
    labels = np.full(len(blocks), -1, dtype=int)
    for node, part in best.assignment.items():
        labels[best.graph.node_data(node)["block"]] = int(part)
    info = {
        "epsilon": round(used_eps, 3),
        "largest_block_over_ideal": round(1.0 + floor, 2) if floor > 0 else None,
        "steps": bursts * burst_length,
        "cut_length_seed_m": round(seed_cut),
        "cut_length_best_m": round(cut_length(best)),
        "bursts_s": round(time.perf_counter() - t0, 2),
        "blocks_outside_main_component": len(blocks) - len(main),
    }
    return _attach_strays(blocks, labels), info


def dissolve(blocks: gpd.GeoDataFrame, labels: np.ndarray) -> gpd.GeoDataFrame:
    """One polygon (possibly multi-part) per label."""
    frame = gpd.GeoDataFrame({"label": labels}, geometry=blocks.geometry.to_numpy(), crs=blocks.crs)
    out = frame.dissolve("label", as_index=False)
    out["geometry"] = shapely.make_valid(out.geometry.to_numpy())
    return out
