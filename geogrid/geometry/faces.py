"""Blocks from linework: polygonize roads + borders, then fold road artefacts into the blocks around them.

Why: carriageway-level networks (OSM, OSMnx) draw dual carriageways as two lines, roundabouts as rings and
junctions as small triangles. Polygonizing them raw gives sliver faces, so a grid border would run along one
carriageway. Here every face too thin for its road class (it vanishes under an inward buffer of the class
half-width), too small, or round and small (a roundabout island) is an *artefact*. The artefacts are shared out
among the real blocks around them by nearest road edge (a Voronoi split of points sampled on the artefacts' road
edges), so the border ends up down the middle between carriageways: the road centreline. Dangles make no faces,
so cul-de-sacs never make borders. Everything after that is a polygon coverage with exact shared edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geogrid.geometry.edges import face_sides, near, sample_lines
from geogrid.geometry.graph import components, first_value, heaviest_neighbour
from geogrid.geometry.parts import clip_lines, interior_points, lines_only, polygons_only
from geogrid.geometry.union import grouped_union
from geogrid.metrics.compactness import polsby_popper

OTHER_HALF_WIDTH = 1.0
"""Half-width (m) for a face bounded by no classed road (only boundary, community or barrier lines)."""
MIN_FACE_AREA = 1000.0
"""Faces below this (m²) are junction islands, never blocks."""
ROUND_ISLAND_AREA = 5000.0
ROUND_ISLAND_PP = 0.75
"""A face this round (Polsby-Popper) and this small (m², radius ≲ 40 m) bounded by roads is a roundabout island."""
SAMPLE_SPACING = 8.0
GRID_M = 1e-6
"""Precision grid (m) of the final coverage: snap-rounded noding joins split lines that meet a hair apart."""
HOLE_M2 = 1.0
"""A face of the re-noded coverage that lies in no block and is larger than this (m²) is a hole, never filled."""
NO_CLASS = 9


@dataclass
class FaceSet:
    """Blocks of a linework and the sources used to tell edge kinds apart later."""

    blocks: np.ndarray
    """Single Polygons (metric CRS)."""
    community: np.ndarray
    """Index into the community polygons per block (-1 = none)."""
    road_lines: np.ndarray
    road_class: np.ndarray
    split_lines: np.ndarray
    """Lines added inside artefacts (the centrelines between carriageways)."""
    dangles: np.ndarray
    artefact_area: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))


@dataclass
class _Linework:
    """Noded lines, the faces they enclose and which noded edges are roads (not boundary/community/barrier)."""

    noded: np.ndarray
    faces: np.ndarray
    dangles: np.ndarray
    is_road: np.ndarray
    roads: np.ndarray
    road_class: np.ndarray


def _linework(road_lines, road_class, boundary, communities, barrier_lines) -> _Linework:
    """Clip roads to the boundary, add the hard borders, node everything and polygonize."""
    shapely.prepare(boundary)
    clipped, src = clip_lines(road_lines, boundary)
    cls = np.asarray(road_class)[src]
    border_lines = [lines_only(shapely.get_parts(shapely.boundary(boundary)))]
    if communities is not None and len(communities):
        border_lines.append(lines_only(shapely.intersection(shapely.boundary(communities), boundary)))
    if barrier_lines is not None and len(barrier_lines):
        border_lines.append(clip_lines(barrier_lines, boundary)[0])
    borders = np.concatenate(border_lines)
    noded = lines_only(shapely.get_parts(shapely.union_all(np.concatenate([clipped, borders]))))
    polys, _cuts, dangles, _bad = shapely.polygonize_full(noded)
    faces = polygons_only(shapely.get_parts(polys))
    # faces inside the boundary only: holes of the boundary are faces too, and stay out
    faces = faces[shapely.contains_properly(boundary, interior_points(faces))]
    # an edge is a road unless it lies on a border line and on no road line
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    on_border = near(mids, borders, 1e-3)
    is_road = ~on_border
    is_road[on_border] = near(mids[on_border], clipped, 1e-3)
    return _Linework(noded, faces, lines_only(shapely.get_parts(dangles)), is_road, clipped, cls)


def _face_community(faces: np.ndarray, communities: np.ndarray | None) -> np.ndarray:
    """Index of the community holding each face (-1 = none)."""
    out = np.full(len(faces), -1, dtype=np.int64)
    if communities is None or len(communities) == 0:
        return out
    pi, ci = shapely.STRtree(communities).query(interior_points(faces), predicate="within")
    out[pi] = ci
    return out


def _artefacts(lw: _Linework, half_widths: dict[int, float]) -> np.ndarray:
    """True for faces that are road artefacts: too thin for their road class, tiny, or a roundabout island."""
    faces = lw.faces
    # the most important road class touching each face sets how thin an artefact of it may be
    fclass = np.full(len(faces), NO_CLASS, dtype=np.int64)
    if len(lw.roads):
        fi, ri = shapely.STRtree(lw.roads).query(faces, predicate="intersects")
        np.minimum.at(fclass, fi, lw.road_class[ri])
    widths = np.array([half_widths.get(c, OTHER_HALF_WIDTH) for c in range(NO_CLASS + 1)])
    hw = widths[np.minimum(fclass, NO_CLASS)]
    area = shapely.area(faces)
    thin = shapely.is_empty(shapely.buffer(faces, -hw, quad_segs=2))
    island = (polsby_popper(faces) > ROUND_ISLAND_PP) & (area < ROUND_ISLAND_AREA)
    artefact = (thin | (area < MIN_FACE_AREA) | island) & (fclass < NO_CLASS)
    if artefact.all():  # nothing but artefacts: keep the largest as a block so the others have somewhere to go
        artefact[np.argmax(area)] = False
    return artefact


def _artefact_edges(lw: _Linework, artefact: np.ndarray, fcomm: np.ndarray):
    """Road edges between an artefact and a real block of the same community: (artefact, block, edge line)."""
    sides = face_sides(lw.noded, lw.faces)
    left, right = sides[:, 0], sides[:, 1]
    l_art = (left >= 0) & artefact[np.maximum(left, 0)]
    r_art = (right >= 0) & artefact[np.maximum(right, 0)]
    l_seed = (left >= 0) & ~l_art
    r_seed = (right >= 0) & ~r_art
    use = lw.is_road & ((l_art & r_seed) | (r_art & l_seed))
    e_seed = np.where(l_seed, left, right)[use]
    e_art = np.where(l_art, left, right)[use]
    ok = fcomm[e_seed] == fcomm[e_art]  # never across a community border
    return e_art[ok], e_seed[ok], lw.noded[use][ok], sides


def _share_out(faces, e_art, e_seed, e_lines, multi, spacing):
    """Split each artefact bordering several blocks by nearest road edge: (pieces, block label of each piece)."""
    m_e = multi[e_art]
    # points along the artefact's road edges, labelled with the block across that edge, grouped per artefact
    pts, pidx = sample_lines(e_lines[m_e], spacing)
    pface, plab = e_art[m_e][pidx], e_seed[m_e][pidx]
    order = np.argsort(pface, kind="stable")
    pts, pface, plab = pts[order], pface[order], plab[order]
    ufaces = np.unique(pface)
    mps = shapely.multipoints(pts, indices=np.searchsorted(ufaces, pface))
    # Voronoi cells of those points (ordered: cell k ↔ point k), unioned per (artefact, block), clipped to the face
    cells = shapely.get_parts(shapely.voronoi_polygons(mps, extend_to=faces[ufaces], ordered=True))
    if len(cells) != len(pts):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    key = pface * (len(faces) + 1) + plab
    ukey, regions = grouped_union(cells, key, coverage=True)
    kf, kl = ukey // (len(faces) + 1), ukey % (len(faces) + 1)
    pieces, pi = polygons_only(shapely.intersection(regions, faces[kf]), return_index=True)
    return pieces, kl[pi], ufaces


def build_faces(
    road_lines: np.ndarray,
    road_class: np.ndarray,
    boundary,
    communities: np.ndarray | None = None,
    barrier_lines: np.ndarray | None = None,
    half_widths: dict[int, float] | None = None,
    spacing: float = SAMPLE_SPACING,
) -> FaceSet:
    """Blocks covering ``boundary`` (metric) bounded by road centrelines, community borders and barriers.

    ``half_widths`` maps road class → the half-width (m) below which a face bounded by that class is a road
    artefact (``geogrid.roads.classes.DEFAULT_HALF_WIDTHS``). The blocks are a coverage up to floating-point noise
    where artefacts were split; :func:`rebuild_coverage` makes it exact.
    """
    lw = _linework(road_lines, road_class, boundary, communities, barrier_lines)
    faces = lw.faces
    fcomm = _face_community(faces, communities)
    artefact = _artefacts(lw, half_widths or {})
    e_art, e_seed, e_lines, sides = _artefact_edges(lw, artefact, fcomm)

    # label: blocks keep themselves; an artefact next to one block joins it; next to several, it is split
    label = np.full(len(faces), -1, dtype=np.int64)
    label[~artefact] = np.flatnonzero(~artefact)
    multi = np.zeros(len(faces), dtype=bool)
    if len(e_lines):
        pair = np.unique(np.column_stack([e_art, e_seed]), axis=0)
        n_lab = np.bincount(pair[:, 0], minlength=len(faces))
        one = n_lab[pair[:, 0]] == 1
        label[pair[one, 0]] = pair[one, 1]
        multi = n_lab > 1
        label[multi] = pair[np.searchsorted(pair[:, 0], np.flatnonzero(multi)), 1]  # provisional, for settling
    label = settle_labels(faces, label, fcomm, lw.noded, sides)

    pieces, piece_label = np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    if multi.any():
        pieces, piece_label, split_faces = _share_out(faces, e_art, e_seed, e_lines, multi, spacing)
        label[split_faces] = -2  # replaced by their pieces
    keep = label >= 0
    geoms = np.concatenate([faces[keep], pieces])
    labs = np.concatenate([label[keep], piece_label])
    comms = np.concatenate([fcomm[keep], fcomm[np.minimum(piece_label, len(faces) - 1)]])
    uniq, blocks = grouped_union(geoms, labs, coverage=False)
    bcomm = first_value(labs, comms, uniq)
    blocks, bidx = polygons_only(blocks, return_index=True)
    return FaceSet(
        blocks=blocks,
        community=bcomm[bidx],
        road_lines=lw.roads,
        road_class=lw.road_class,
        split_lines=lines_only(shapely.boundary(pieces)) if len(pieces) else np.empty(0, dtype=object),
        dangles=lw.dangles,
        artefact_area=faces[artefact],
    )


def rebuild_coverage(blocks: np.ndarray, community: np.ndarray):
    """Re-node ``blocks`` into an exact coverage: (blocks, source block index, edges, block on each side of each edge).

    Why: unions of split pieces and straight cuts leave vertices that neighbours lack; re-noding the boundaries
    and polygonizing makes every shared border bit-identical, so adjacency and border lengths are exact. Faces
    that come out detached from their block (slivers) join the neighbour they share most border with. A face in
    no block (a hole of the jurisdiction) stays out.
    """
    bounds = shapely.boundary(np.asarray(blocks, dtype=object))
    edges = lines_only(shapely.get_parts(shapely.union_all(bounds, grid_size=GRID_M)))
    faces = polygons_only(shapely.get_parts(shapely.polygonize(edges)))
    # label each face with the block holding it; noding slivers go to the nearest block, holes are dropped
    tree = shapely.STRtree(blocks)
    rep = interior_points(faces)
    lab = np.full(len(faces), -1, dtype=np.int64)
    pi, bi = tree.query(rep, predicate="within")
    lab[pi] = bi
    hole = (lab < 0) & (shapely.area(faces) > HOLE_M2)
    faces, rep, lab = faces[~hole], rep[~hole], lab[~hole]
    lost = np.flatnonzero(lab < 0)
    if len(lost):
        qi, bj = tree.query_nearest(rep[lost], return_distance=False, all_matches=False)
        lab[lost[qi]] = bj
    sides = face_sides(edges, faces)
    lab0 = lab.copy()
    lab = settle_labels(faces, lab, community[lab], edges, sides)
    lab = _component_labels(lab, sides)
    uniq, merged = grouped_union(faces, lab, coverage=True)
    # sides per block, and only the edges between two different blocks (or a block and the outside)
    inv = np.full(max(int(lab.max()) + 1, 1), -1, dtype=np.int64)
    inv[uniq] = np.arange(len(uniq))
    bsides = np.where(sides >= 0, inv[lab[np.maximum(sides, 0)]], -1)
    keep = bsides[:, 0] != bsides[:, 1]
    return merged, first_value(lab, lab0, uniq), edges[keep], bsides[keep]


def _component_labels(label: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """Relabel so that each label is one edge-connected set of faces (detached parts get labels of their own)."""
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0)
    return components(len(label), sides[inner], key=label)


def _main_parts(label: np.ndarray, comp: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per face: True when its component is the largest (by area) of its label's components."""
    ncomp = int(comp.max()) + 1
    comp_area = np.bincount(comp, weights=area, minlength=ncomp)
    comp_label = np.full(ncomp, -1, dtype=np.int64)
    comp_label[comp] = label
    # components sorted by label, largest first: the first of each label is its main part
    order = np.lexsort((-comp_area, comp_label))
    first = np.ones(ncomp, dtype=bool)
    first[1:] = comp_label[order[1:]] != comp_label[order[:-1]]
    main = np.zeros(ncomp, dtype=bool)
    main[order[first]] = True
    return main[comp]


def settle_labels(
    faces: np.ndarray, label: np.ndarray, comm: np.ndarray, edges: np.ndarray, sides: np.ndarray, rounds: int = 8
) -> np.ndarray:
    """Make every label's faces connected and every face labelled.

    Faces without a label, and pieces cut off from their label's main part, join the neighbour of the same
    community they share most border with (settled neighbours first); faces with no such neighbour become blocks
    of their own.
    """
    n = len(faces)
    label = label.copy()
    own = label < 0
    label[own] = n + np.flatnonzero(own)  # provisional own labels
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0) & (sides[:, 0] != sides[:, 1])
    a, b = sides[inner, 0], sides[inner, 1]
    w = shapely.length(edges[inner])
    area = shapely.area(faces)
    for _ in range(rounds):
        comp = components(n, np.column_stack([a, b]), key=label)
        # detached components (or own-labelled orphans) look for a neighbour to join
        loose = ~_main_parts(label, comp, area) | own
        cand = (loose[a] | loose[b]) & (comp[a] != comp[b]) & (comm[a] == comm[b])
        if not loose.any() or not cand.any():
            break
        fwd, bwd = cand & loose[a], cand & loose[b]
        src = np.concatenate([comp[a][fwd], comp[b][bwd]])
        dst_face = np.concatenate([b[fwd], a[bwd]])
        # settled neighbours weigh a thousand times more than loose ones
        ww = np.concatenate([w[fwd], w[bwd]]) * np.where(loose[dst_face], 1e-3, 1.0)
        comp_ids, new_label, _ = heaviest_neighbour(src, label[dst_face], ww)
        new_of_comp = np.full(int(comp.max()) + 1, -1, dtype=np.int64)
        new_of_comp[comp_ids] = new_label
        new = new_of_comp[comp]
        change = loose & (new >= 0) & (new != label)
        if not change.any():
            break
        label[change] = new[change]
        own[change] = False
        own[~loose] = False
    return label
