"""Blocks: the units a draft is edited in, so that a hand-drawn border still runs on road centrelines.

A block is a face of the noded union of the plan's roads (classes 1–3), its grid borders and the community
borders, inside one grid. Polygonizing in the store CRS keeps every grid-border vertex as it was, so a grid rebuilt
from its blocks is the grid. Faces that are slivers (a road running a few metres beside a grid border leaves one)
or crumbs are merged into the neighbour of the same grid and community they share most border with. A plan
without roads gets one block per grid and community: a geometry move then cuts them (see ``edits``).

Blocks carry what the live checks add up without geometry: metric area, community, whether they lie outside the
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

from geogrid.planner.geometry import polygons, to_metric
from geogrid.planner.roads import BORDER_CLASSES

MIN_BLOCK_M2 = 200.0
"""Faces below this are crumbs, never editing units of their own (where a same-grid neighbour exists)."""
SLIVER_HALF_WIDTH_M = 4.0
"""Faces that vanish under an inward buffer of this are slivers (narrower than 8 m)."""

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
    "INSERT INTO plan_block (id, plan_id, grid_code, community_id, outside, area_m2, cases, geom) "
    "SELECT u.id, :p, u.code, u.comm, u.outside, u.area, u.cases, ST_GeomFromWKB(u.wkb, 4490) "
    "FROM unnest(CAST(:id AS bigint[]), CAST(:code AS text[]), CAST(:comm AS int[]), CAST(:outside AS bool[]), "
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


def merge_slivers(faces: np.ndarray, key: np.ndarray, metric: np.ndarray) -> np.ndarray:
    """Label per face: slivers and crumbs take the label of the same-key neighbour they share most border with."""
    n = len(faces)
    area = shapely.area(metric)
    small = (area < MIN_BLOCK_M2) | shapely.is_empty(shapely.buffer(metric, -SLIVER_HALF_WIDTH_M, quad_segs=2))
    rows, cols = [], []
    idx = np.flatnonzero(small)
    if len(idx):
        a, b = shapely.STRtree(metric).query(metric[idx], predicate="intersects")
        a = idx[a]
        ok = (a != b) & (key[a] == key[b])
        a, b = a[ok], b[ok]
        shared = shapely.length(shapely.intersection(shapely.boundary(metric[a]), shapely.boundary(metric[b])))
        ok = shared > 0
        a, b, shared = a[ok], b[ok], shared[ok]
        # the best neighbour of each small face: longest shared border (ties: the larger neighbour)
        order = np.lexsort((-area[b], -shared, a))
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
    key = owner * (len(comm) + 1) + community + 1  # same grid and same community
    label = merge_slivers(faces, key, to_metric(faces, srid))
    geoms, labels = [], []
    for lab in np.unique(label):
        members = faces[label == lab]
        merged = members[0] if len(members) == 1 else shapely.union_all(members)
        for part in polygons(merged):
            geoms.append(part)
            labels.append(lab)
    geoms = np.asarray(geoms, dtype=object)
    first = np.unique(label, return_index=True)[1]
    src = first[np.searchsorted(np.unique(label), np.asarray(labels))]
    codes = np.array([rows[i].code for i in owner[src]], dtype=object)
    comm_ids = np.array([None if c < 0 else comm[c].id for c in community[src]], dtype=object)
    return BlockSet(geoms, codes, comm_ids, shapely.area(to_metric(geoms, srid)))


def outside(geoms: np.ndarray, jurisdiction, srid: int) -> np.ndarray:
    """Whether each block lies outside the jurisdiction (metric polygon; None = unknown → False)."""
    if jurisdiction is None or len(geoms) == 0:
        return np.zeros(len(geoms), dtype=bool)
    return ~shapely.contains(jurisdiction, shapely.point_on_surface(to_metric(geoms, srid)))


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


def store(session: Session, plan_id: int, blocks: BlockSet, outside_flags: np.ndarray, cases: np.ndarray) -> int:
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
            "outside": [bool(o) for o in outside_flags],
            "area": [float(a) for a in blocks.area],
            "cases": [int(c) for c in cases],
            "wkb": [bytes(b) for b in shapely.to_wkb(blocks.geoms)],
        },
    )
    return len(ids)
