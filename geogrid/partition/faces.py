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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geogrid.partition.geom import face_sides, grouped_union, lines_only, polygons_only, sample_lines

DEFAULT_HALF_WIDTHS = {1: 20.0, 2: 12.0, 3: 7.0}
"""Half-width (m) per road class for the thin-face test: a face narrower than twice this is a road artefact.
Main roads' carriageways lie up to ~40 m apart, local roads' up to ~14 m."""
OTHER_HALF_WIDTH = 1.0
MIN_FACE_AREA = 1000.0
"""Faces below this (m²) are junction islands, never blocks."""
ROUND_ISLAND_AREA = 5000.0
ROUND_ISLAND_PP = 0.75
"""A face this round (Polsby-Popper) and this small (m², radius ≲ 40 m) bounded by roads is a roundabout island."""
SAMPLE_SPACING = 8.0
GRID_M = 1e-6
"""Precision grid (m) of the final coverage: snap-rounded noding joins split lines that meet a hair apart."""


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


def _min_class_per_face(faces: np.ndarray, road_lines: np.ndarray, road_class: np.ndarray) -> np.ndarray:
    out = np.full(len(faces), 9, dtype=np.int64)
    if len(road_lines) == 0:
        return out
    tree = shapely.STRtree(road_lines)
    fi, ri = tree.query(faces, predicate="intersects")
    np.minimum.at(out, fi, road_class[ri])
    return out


def _face_community(faces: np.ndarray, communities: np.ndarray | None) -> np.ndarray:
    out = np.full(len(faces), -1, dtype=np.int64)
    if communities is None or len(communities) == 0:
        return out
    pts = shapely.point_on_surface(faces)
    pi, ci = shapely.STRtree(communities).query(pts, predicate="within")
    out[pi] = ci
    return out


def _clip_lines(lines: np.ndarray, boundary) -> tuple[np.ndarray, np.ndarray]:
    """Lines clipped to ``boundary``; lines wholly inside skip the (costly) overlay."""
    lines = np.asarray(lines, dtype=object)
    inside = shapely.contains_properly(boundary, lines)
    cut, cidx = lines_only(shapely.intersection(lines[~inside], boundary), return_index=True)
    keep = np.flatnonzero(inside)
    return np.concatenate([lines[keep], cut]), np.concatenate([keep, np.flatnonzero(~inside)[cidx]])


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

    The blocks are a coverage up to floating-point noise where artefacts were split; :func:`rebuild_coverage`
    makes it exact.
    """
    half_widths = {**DEFAULT_HALF_WIDTHS, **(half_widths or {})}
    shapely.prepare(boundary)
    clipped, src = _clip_lines(road_lines, boundary)
    cls = np.asarray(road_class)[src]
    border_lines = [lines_only(shapely.get_parts(shapely.boundary(boundary)))]
    if communities is not None and len(communities):
        border_lines.append(lines_only(shapely.intersection(shapely.boundary(communities), boundary)))
    if barrier_lines is not None and len(barrier_lines):
        border_lines.append(_clip_lines(barrier_lines, boundary)[0])
    borders = np.concatenate(border_lines)

    noded = lines_only(shapely.get_parts(shapely.union_all(np.concatenate([clipped, borders]))))
    polys, _cuts, dangles, _bad = shapely.polygonize_full(noded)
    faces = polygons_only(shapely.get_parts(polys))
    faces = faces[shapely.contains_properly(boundary, shapely.point_on_surface(faces))]
    fcomm = _face_community(faces, communities)

    # --- artefacts
    fclass = _min_class_per_face(faces, clipped, cls)
    hw = np.array([half_widths.get(int(c), OTHER_HALF_WIDTH) for c in range(10)])[np.minimum(fclass, 9)]
    area = shapely.area(faces)
    pp = 4 * np.pi * area / np.maximum(shapely.length(faces), 1e-9) ** 2
    thin = shapely.is_empty(shapely.buffer(faces, -hw, quad_segs=2))
    artefact = (thin | (area < MIN_FACE_AREA) | ((pp > ROUND_ISLAND_PP) & (area < ROUND_ISLAND_AREA))) & (fclass < 9)
    if artefact.all():  # nothing but artefacts: keep the largest as a block so the others have somewhere to go
        artefact[np.argmax(area)] = False

    # --- road edges between an artefact and a real block
    sides = face_sides(noded, faces)
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    is_road = np.ones(len(noded), dtype=bool)
    bi, _ = shapely.STRtree(borders).query(mids, predicate="dwithin", distance=1e-3)
    if len(bi):
        bi = np.unique(bi)
        ri, _ = shapely.STRtree(clipped).query(mids[bi], predicate="dwithin", distance=1e-3)
        is_road[bi] = False
        is_road[bi[np.unique(ri)]] = True
    left, right = sides[:, 0], sides[:, 1]
    l_art = (left >= 0) & artefact[np.maximum(left, 0)]
    r_art = (right >= 0) & artefact[np.maximum(right, 0)]
    l_seed = (left >= 0) & ~l_art
    r_seed = (right >= 0) & ~r_art
    use = is_road & ((l_art & r_seed) | (r_art & l_seed))
    e_seed = np.where(l_seed, left, right)[use]
    e_art = np.where(l_art, left, right)[use]
    ok = fcomm[e_seed] == fcomm[e_art]  # never across a community border
    e_seed, e_art, e_lines = e_seed[ok], e_art[ok], noded[use][ok]

    # --- label: blocks keep themselves; an artefact next to one block joins it; next to several, it is split
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
    label = _settle_labels(faces, label, fcomm, noded, sides)

    pieces = np.empty(0, dtype=object)
    piece_label = np.empty(0, dtype=np.int64)
    if multi.any():
        m_e = multi[e_art]
        pts, pidx = sample_lines(e_lines[m_e], spacing)
        pface, plab = e_art[m_e][pidx], e_seed[m_e][pidx]
        order = np.argsort(pface, kind="stable")
        pts, pface, plab = pts[order], pface[order], plab[order]
        ufaces = np.unique(pface)
        mps = shapely.multipoints(pts, indices=np.searchsorted(ufaces, pface))
        cells = shapely.get_parts(shapely.voronoi_polygons(mps, extend_to=faces[ufaces], ordered=True))
        if len(cells) == len(pts):  # ordered per face: cell k ↔ point k
            key = pface * (len(faces) + 1) + plab
            ukey, regions = grouped_union(cells, key, coverage=True)
            kf, kl = ukey // (len(faces) + 1), ukey % (len(faces) + 1)
            pieces, pi = polygons_only(shapely.intersection(regions, faces[kf]), return_index=True)
            piece_label = kl[pi]
            label[ufaces] = -2  # replaced by their pieces
    keep = label >= 0
    geoms = np.concatenate([faces[keep], pieces])
    labs = np.concatenate([label[keep], piece_label])
    comms = np.concatenate([fcomm[keep], fcomm[np.minimum(piece_label, len(faces) - 1)]])
    uniq, blocks = grouped_union(geoms, labs, coverage=False)
    bcomm = _first_value(labs, comms, uniq)
    blocks, bidx = polygons_only(blocks, return_index=True)
    return FaceSet(
        blocks=blocks,
        community=bcomm[bidx],
        road_lines=clipped,
        road_class=cls,
        split_lines=lines_only(shapely.boundary(pieces)) if len(pieces) else np.empty(0, dtype=object),
        dangles=lines_only(shapely.get_parts(dangles)),
        artefact_area=faces[artefact],
    )


def rebuild_coverage(blocks: np.ndarray, community: np.ndarray):
    """Re-node ``blocks`` into an exact coverage: (blocks, source block index, edges, block on each side of each edge).

    Why: unions of split pieces and straight cuts leave vertices that neighbours lack; re-noding the boundaries
    and polygonizing makes every shared border bit-identical, so adjacency and border lengths are exact. Faces
    that come out detached from their block (slivers) join the neighbour they share most border with.
    """
    bounds = shapely.boundary(np.asarray(blocks, dtype=object))
    edges = lines_only(shapely.get_parts(shapely.union_all(bounds, grid_size=GRID_M)))
    faces = polygons_only(shapely.get_parts(shapely.polygonize(edges)))
    tree = shapely.STRtree(blocks)
    rep = shapely.point_on_surface(faces)
    lab = np.full(len(faces), -1, dtype=np.int64)
    pi, bi = tree.query(rep, predicate="within")
    lab[pi] = bi
    lost = np.flatnonzero(lab < 0)
    if len(lost):
        qi, bj = tree.query_nearest(rep[lost], return_distance=False, all_matches=False)
        lab[lost[qi]] = bj
    sides = face_sides(edges, faces)
    fcomm = community[lab]
    lab0 = lab.copy()
    lab = _settle_labels(faces, lab, fcomm, edges, sides)
    lab = _component_labels(lab, sides)
    uniq, merged = grouped_union(faces, lab, coverage=True)
    inv = np.full(max(int(lab.max()) + 1, 1), -1, dtype=np.int64)
    inv[uniq] = np.arange(len(uniq))
    bsides = np.where(sides >= 0, inv[lab[np.maximum(sides, 0)]], -1)
    keep = bsides[:, 0] != bsides[:, 1]
    return merged, _first_value(lab, lab0, uniq), edges[keep], bsides[keep]


def _first_value(labels: np.ndarray, values: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """``values`` at the first occurrence of each label in ``uniq`` (sorted unique labels)."""
    order = np.argsort(labels, kind="stable")
    _, start = np.unique(labels[order], return_index=True)
    return values[order[start]][np.searchsorted(np.unique(labels), uniq)]


def _component_labels(label: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """Relabel so that each label is one edge-connected set of faces (detached parts get labels of their own)."""
    n = len(label)
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0)
    a, b = sides[inner, 0], sides[inner, 1]
    same = label[a] == label[b]
    g = coo_matrix((np.ones(same.sum()), (a[same], b[same])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _settle_labels(
    faces: np.ndarray, label: np.ndarray, comm: np.ndarray, edges: np.ndarray, sides: np.ndarray
) -> np.ndarray:
    """Make every label's faces connected and every face labelled.

    Faces without a label, and pieces cut off from their label's main part, join the neighbour of the same
    community they share most border with; faces with no such neighbour become blocks of their own.
    """
    n = len(faces)
    label = label.copy()
    unl = label < 0
    label[unl] = n + np.flatnonzero(unl)  # provisional own labels
    own = np.zeros(n, dtype=bool)
    own[unl] = True
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0) & (sides[:, 0] != sides[:, 1])
    a, b = sides[inner, 0], sides[inner, 1]
    w = shapely.length(edges[inner])
    area = shapely.area(faces)
    for _ in range(8):
        same = label[a] == label[b]
        g = coo_matrix((np.ones(same.sum()), (a[same], b[same])), shape=(n, n))
        ncomp, comp = connected_components(g, directed=False)
        # main component of each label = the largest by area
        comp_area = np.bincount(comp, weights=area, minlength=ncomp)
        comp_label = np.full(ncomp, -1, dtype=np.int64)
        comp_label[comp] = label
        best = {}
        for c in np.argsort(-comp_area):
            best.setdefault(comp_label[c], c)
        main = np.zeros(ncomp, dtype=bool)
        main[list(best.values())] = True
        # detached components (or own-labelled orphans) look for a neighbour to join
        loose = ~main[comp] | own
        if not loose.any():
            break
        cand = (loose[a] | loose[b]) & (comp[a] != comp[b]) & (comm[a] == comm[b])
        if not cand.any():
            break
        # for each loose component: neighbour label with the longest shared border
        src = np.concatenate([comp[a][cand & loose[a]], comp[b][cand & loose[b]]])
        dst_face = np.concatenate([b[cand & loose[a]], a[cand & loose[b]]])
        ww = np.concatenate([w[cand & loose[a]], w[cand & loose[b]]])
        # prefer settled neighbours
        settled = ~loose[dst_face]
        ww = ww * np.where(settled, 1.0, 1e-3)
        key = src.astype(np.int64) * (n * 2 + 1) + label[dst_face]
        ukey, inv = np.unique(key, return_inverse=True)
        tot = np.bincount(inv, weights=ww)
        k_src = ukey // (n * 2 + 1)
        k_lab = ukey % (n * 2 + 1)
        order = np.lexsort((-tot, k_src))
        first = np.ones(len(order), dtype=bool)
        first[1:] = k_src[order][1:] != k_src[order][:-1]
        choice = dict(zip(k_src[order][first].tolist(), k_lab[order][first].tolist(), strict=True))
        changed = False
        for f in np.flatnonzero(loose):
            new = choice.get(int(comp[f]))
            if new is not None and new != label[f]:
                label[f] = new
                own[f] = False
                changed = True
        own[~loose] = False
        if not changed:
            break
    return label
