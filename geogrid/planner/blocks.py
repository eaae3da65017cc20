"""Blocks: the units a draft is edited in, so that a hand-drawn border still runs on road centrelines.

A block is a face of the noded union of the plan's roads (classes 1–3), its grid borders and the community
borders, inside one grid. Polygonizing in the store CRS keeps every grid-border vertex as it was, so a grid rebuilt
from its blocks is the grid. Faces that are slivers (a road running a few metres beside a grid border leaves one)
or crumbs are merged into the neighbour of the same grid and community they share most border with. A plan
without roads gets one block per grid and community: a geometry move then cuts them (see ``edits``).

Blocks carry what the live checks add up without geometry: metric area, community, the area outside the
jurisdiction, and the cases reported inside (the workload).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.planner.geometry import cut, polygons, to_metric
from geogrid.planner.roads import BORDER_CLASSES

MIN_BLOCK_M2 = 200.0
"""Faces below this are crumbs, never editing units of their own (where a same-grid neighbour exists)."""
SLIVER_HALF_WIDTH_M = 4.0
"""Faces that vanish under an inward buffer of this are slivers (narrower than 8 m)."""
SNAP_STEP_DEG = 1e-5
"""Drawn lines are densified to ~1 m (in degrees) before snapping, so each stretch near a border is caught."""
OVERSHOOT_DEG = 1e-9
NOISE_M2 = 1.0
"""Faces below this are floating-point noise between borders digitised apart (a community border a hair off a
grid border): they join their grid's neighbouring block even across the community border."""

_GRIDS = text("SELECT code, community_id, ST_AsBinary(geom) AS wkb FROM grid WHERE plan_id = :p ORDER BY code")
_ROADS = text(
    "SELECT ST_AsBinary(geom) FROM road_edge WHERE network_id = :n AND road_class = ANY(:cls) "
    "AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)"
)
_COMMUNITIES = text(
    "SELECT id, ST_AsBinary(geom) AS wkb FROM admin_area WHERE level = 'community' "
    "AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)"
)
_CASES = text("SELECT lon, lat FROM case_report WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)")
_INSERT = text(
    "INSERT INTO plan_block (id, plan_id, grid_code, community_id, outside_m2, area_m2, cases, geom) "
    "SELECT u.id, :p, u.code, u.comm, u.outside, u.area, u.cases, ST_GeomFromWKB(u.wkb, 4490) "
    "FROM unnest(CAST(:id AS bigint[]), CAST(:code AS text[]), CAST(:comm AS int[]), CAST(:outside AS float8[]), "
    "CAST(:area AS float8[]), CAST(:cases AS int[]), CAST(:wkb AS bytea[])) "
    "AS u(id, code, comm, outside, area, cases, wkb)"
)


@dataclass
class BlockSet:
    """New blocks (store CRS) with their grid code, community id (None outside all) and metric area."""

    geoms: np.ndarray
    code: np.ndarray
    community: np.ndarray
    area: np.ndarray


def _wkb(rows) -> np.ndarray:
    return shapely.from_wkb([bytes(r) for r in rows])


def _lookup(points: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Index of the first polygon containing each point (-1 for none); polygons are in priority order."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) and len(polys):
        pi, gi = shapely.STRtree(polys).query(points, predicate="within")
        order = np.lexsort((gi, pi))  # lowest polygon index first for each point
        pi, gi = pi[order], gi[order]
        first = np.unique(pi, return_index=True)[1]
        out[pi[first]] = gi[first]
    return out


def faces_of(grids: np.ndarray, roads: np.ndarray, communities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces of roads ∩ grids ∩ communities inside some grid, and the grid each lies in (lowest index wins)."""
    lines = [shapely.boundary(grids)]
    if len(communities):
        lines.append(shapely.boundary(communities))
    if len(roads):
        footprint = shapely.union_all(grids)
        shapely.prepare(footprint)
        lines.append(roads[shapely.intersects(footprint, roads)])
    noded = shapely.union_all(np.concatenate([np.asarray(x, dtype=object) for x in lines]))
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))), dtype=object)
    owner = _lookup(shapely.point_on_surface(faces), grids)
    return faces[owner >= 0], owner[owner >= 0]


def merge_slivers(
    owner: np.ndarray,
    community: np.ndarray,
    metric: np.ndarray,
    min_area: float = MIN_BLOCK_M2,
    half_width: float = SLIVER_HALF_WIDTH_M,
) -> np.ndarray:
    """Label per face (metric polygons): slivers (vanishing under an inward buffer of ``half_width``) and crumbs
    (under ``min_area``) take the label of the neighbour in the same grid they share most border with — of the
    same community, except for noise crumbs (< ``NOISE_M2``), which join whatever block of their grid they touch
    most."""
    n = len(metric)
    area = shapely.area(metric)
    small = (area < min_area) | shapely.is_empty(shapely.buffer(metric, -half_width, quad_segs=2))
    rows, cols = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    idx = np.flatnonzero(small)
    if len(idx):
        a, b = shapely.STRtree(metric).query(metric[idx], predicate="intersects")
        a = idx[a]
        same_comm = community[a] == community[b]
        ok = (a != b) & (owner[a] == owner[b]) & (same_comm | (area[a] < NOISE_M2))
        a, b, same_comm = a[ok], b[ok], same_comm[ok]
        shared = shapely.length(shapely.intersection(shapely.boundary(metric[a]), shapely.boundary(metric[b])))
        ok = shared > 0
        a, b, shared, same_comm = a[ok], b[ok], shared[ok], same_comm[ok]
        # the best neighbour of each small face: a face that is not small itself (else two crumbs pair up and stay
        # a crumb), of the same community, sharing the longest border
        order = np.lexsort((-area[b], -shared, ~same_comm, small[b], a))
        a, b = a[order], b[order]
        first = np.unique(a, return_index=True)[1]
        rows, cols = a[first], b[first]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def build(session: Session, plan_id: int, network_id: int | None, srid: int) -> BlockSet:
    """The blocks of ``plan_id``'s grids, cut by its road network (if any) and the community borders."""
    rows = session.execute(_GRIDS, {"p": plan_id}).all()
    grids = _wkb([r.wkb for r in rows])
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(grids))
    box = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
    roads = np.empty(0, dtype=object)
    if network_id is not None:
        roads = _wkb(session.execute(_ROADS, {"n": network_id, "cls": list(BORDER_CLASSES), **box}).scalars())
    comm = session.execute(_COMMUNITIES, box).all()
    comm_geoms = _wkb([c.wkb for c in comm])
    faces, owner = faces_of(grids, roads, comm_geoms)
    community = _lookup(shapely.point_on_surface(faces), comm_geoms)
    metric = to_metric(faces, srid)
    label = merge_slivers(owner, community, metric)
    # each block takes grid and community from its largest face
    order = np.lexsort((-shapely.area(metric), label))
    largest = order[np.unique(label[order], return_index=True)[1]]
    geoms, src = [], []
    for lab, big in zip(np.unique(label), largest, strict=True):
        members = faces[label == lab]
        merged = members[0] if len(members) == 1 else shapely.union_all(members)
        for part in polygons(merged):
            geoms.append(part)
            src.append(big)
    geoms = np.asarray(geoms, dtype=object)
    src = np.asarray(src, dtype=np.int64)
    codes = np.array([rows[i].code for i in owner[src]], dtype=object)
    comm_ids = np.array([None if c < 0 else comm[c].id for c in community[src]], dtype=object)
    return BlockSet(geoms, codes, comm_ids, shapely.area(to_metric(geoms, srid)))


def snap_to_border(lines, polygon, srid: int, snap_m: float):
    """``lines`` with every stretch within ``snap_m`` of ``polygon``'s border moved onto that border and dropped:
    what is left runs deeper inside and ends on the border. None when nothing is left.

    Done in the store CRS (so points land on the border's own segments; only the distance test is metric). A
    snapped end is pushed a hair (``OVERSHOOT_DEG``) past the border, so noding finds the crossing instead of
    leaving the line dangling a rounding error short of it.
    """
    dense = shapely.segmentize(lines, SNAP_STEP_DEG)
    coords, part = shapely.get_coordinates(shapely.get_parts(dense), return_index=True)
    border = shapely.boundary(polygon)
    near = shapely.distance(to_metric(shapely.points(coords), srid), to_metric(border, srid)) <= snap_m
    at = shapely.line_locate_point(border, shapely.points(coords[near]))
    coords[near] = shapely.get_coordinates(shapely.line_interpolate_point(border, at))
    i, j = np.arange(len(coords) - 1), np.arange(1, len(coords))
    keep = (part[i] == part[j]) & ~(near[i] & near[j])  # drop the stretches now lying on the border
    if not keep.any():
        return None
    a, b = coords[i[keep]], coords[j[keep]]
    step = b - a
    unit = step / np.maximum(np.hypot(step[:, 0], step[:, 1]), 1e-15)[:, None]
    a = np.where(near[i[keep]][:, None], a - unit * OVERSHOOT_DEG, a)
    b = np.where(near[j[keep]][:, None], b + unit * OVERSHOOT_DEG, b)
    return shapely.multilinestrings(shapely.linestrings(np.stack([a, b], axis=1)))


def snapped_pieces(polygon, lines, srid: int, snap_m: float) -> list | None:
    """``polygon`` cut by ``lines`` snapped to its border (``snap_to_border``); None when that leaves it whole.
    Noise pieces (a hair between the snapped line and the border) rejoin their neighbour."""
    snapped = snap_to_border(lines, polygon, srid, snap_m)
    if snapped is None:
        return None
    pieces = np.asarray(cut(polygon, snapped), dtype=object)
    if len(pieces) < 2:
        return None
    same = np.zeros(len(pieces), dtype=np.int64)
    label = merge_slivers(same, same, to_metric(pieces, srid), min_area=NOISE_M2, half_width=0.05)
    if len(np.unique(label)) < 2:
        return None
    return [shapely.union_all(pieces[label == lab]) for lab in np.unique(label)]


def outside_m2(geoms: np.ndarray, jurisdiction, srid: int) -> np.ndarray:
    """Area (m²) of each block outside the jurisdiction (a metric polygon; None = unknown → 0)."""
    out = np.zeros(len(geoms))
    if jurisdiction is None or len(geoms) == 0:
        return out
    metric = to_metric(np.asarray(geoms, dtype=object), srid)
    shapely.prepare(jurisdiction)
    edge = ~shapely.contains(jurisdiction, metric)  # only blocks not wholly inside need an overlay
    out[edge] = shapely.area(shapely.difference(metric[edge], jurisdiction))
    return out


def case_counts(session: Session, geoms: np.ndarray) -> np.ndarray:
    """Cases reported inside each block (the workload the balance check adds up)."""
    out = np.zeros(len(geoms), dtype=np.int64)
    if len(geoms) == 0:
        return out
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms))
    pts = session.execute(_CASES, {"x0": x0, "y0": y0, "x1": x1, "y1": y1}).all()
    if pts:
        points = shapely.points(np.array([(p.lon, p.lat) for p in pts], dtype=float))
        hit = _lookup(points, geoms)
        out += np.bincount(hit[hit >= 0], minlength=len(geoms))
    return out


def new_ids(session: Session, table: str, n: int) -> list[int]:
    """``n`` fresh primary keys of ``table`` (``grid`` or ``plan_block``) from its sequence."""
    if n == 0:
        return []
    return list(
        session.execute(
            text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"), {"n": n}
        ).scalars()
    )


def store(session: Session, plan_id: int, blocks: BlockSet, outside: np.ndarray, cases: np.ndarray) -> int:
    """Replace ``plan_id``'s blocks with ``blocks``; returns how many."""
    session.execute(text("DELETE FROM plan_block WHERE plan_id = :p"), {"p": plan_id})
    ids = new_ids(session, "plan_block", len(blocks.geoms))
    session.execute(
        _INSERT,
        {
            "p": plan_id,
            "id": ids,
            "code": [str(c) for c in blocks.code],
            "comm": [None if c is None else int(c) for c in blocks.community],
            "outside": [float(o) for o in outside],
            "area": [float(a) for a in blocks.area],
            "cases": [int(c) for c in cases],
            "wkb": [bytes(b) for b in shapely.to_wkb(blocks.geoms)],
        },
    )
    return len(ids)
