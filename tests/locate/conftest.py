"""A small published jurisdiction for locate/route tests, written straight into the store through the ORM.

A 6 × 6 lattice of ~500 m cells around lon 106.70, lat 26.57 whose interior vertices are jittered, so grid
borders run diagonally; two streets, four communities (3 × 3 cells each). Layer ``responsibility`` has one grid
per cell, layer ``selfgov`` one grid per community. ``publish`` mimics ``publish_plan``: it retires the layer's
plan, publishes the new one and sends ``pg_notify('geogrid_plans', layer)`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import AdminArea, Grid, GridLayer, Plan

X0, Y0, STEP, N = 106.685, 26.555, 0.005, 6
DISTRICT = "520102"


@dataclass
class Area:
    level: str
    code: str
    name: str
    geom: shapely.Geometry
    parent: str | None


@dataclass
class GridSpec:
    code: str
    name: str
    tier: str
    community: str
    geom: shapely.Geometry


def lattice(seed: int = 7) -> np.ndarray:
    """(N+1, N+1, 2) vertex coordinates; interior vertices jittered by up to 30 % of a cell, rounded to 1e-5."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(X0 + STEP * np.arange(N + 1), Y0 + STEP * np.arange(N + 1), indexing="ij")
    v = np.stack([xs, ys], axis=-1)
    jitter = rng.uniform(-0.3, 0.3, size=(N - 1, N - 1, 2)) * STEP
    v[1:N, 1:N] += jitter
    return np.round(v, 5)


def cell(v: np.ndarray, i: int, j: int) -> Polygon:
    return Polygon([v[i, j], v[i + 1, j], v[i + 1, j + 1], v[i, j + 1]])


def community_of(i: int, j: int) -> str:
    street = "001" if i < N // 2 else "002"
    return f"{DISTRICT}{street}{'001' if j < N // 2 else '002'}"


def build_jurisdiction(seed: int = 7) -> tuple[list[Area], list[GridSpec], list[GridSpec]]:
    """Admin areas, the responsibility grids (one per cell) and the self-governance grids (one per community)."""
    v = lattice(seed)
    cells = {(i, j): cell(v, i, j) for i in range(N) for j in range(N)}
    comms: dict[str, list[Polygon]] = {}
    for (i, j), poly in cells.items():
        comms.setdefault(community_of(i, j), []).append(poly)
    areas = [Area("district", DISTRICT, "南明区(测试)", shapely.union_all(list(cells.values())), None)]
    for street in ("001", "002"):
        members = [p for c, ps in comms.items() if c[6:9] == street for p in ps]
        areas.append(Area("street", DISTRICT + street, f"街道{street}", shapely.union_all(members), DISTRICT))
    for code, polys in sorted(comms.items()):
        areas.append(Area("community", code, f"社区{code[-6:]}", shapely.union_all(polys), code[:9]))
    grids, seq = [], {}
    for j in reversed(range(N)):  # north → south, west → east inside each community
        for i in range(N):
            comm = community_of(i, j)
            seq[comm] = seq.get(comm, 0) + 1
            code = f"{comm}{seq[comm]:03d}"
            grids.append(GridSpec(code, f"网格{code[-6:]}", "ABC"[(i + j) % 3], comm, cells[(i, j)]))
    selfgov = [GridSpec(a.code + "900", f"自治{a.code[-3:]}", "B", a.code, a.geom) for a in areas[3:]]
    return areas, grids, selfgov


def _ewkt(geom: shapely.Geometry) -> str:
    if geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    return f"SRID=4490;{geom.wkt}"


def insert_areas(session: Session, areas: list[Area]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for area in areas:  # parents come first in the list
        row = AdminArea(
            level=area.level, code=area.code, name=area.name, geom=_ewkt(area.geom), parent_id=ids.get(area.parent)
        )
        session.add(row)
        session.flush()
        ids[area.code] = row.id
    return ids


def publish(
    session: Session, layer: str, plan: str, grids: list[GridSpec], area_ids: dict[str, int], notify: bool = True
) -> Plan:
    """Publish ``grids`` as the next plan of ``layer`` (retiring the current one), as publish_plan does."""
    gl = session.scalar(select(GridLayer).where(GridLayer.name == layer))
    if gl is None:
        gl = GridLayer(name=layer, title=layer)
        session.add(gl)
        session.flush()
    session.execute(
        text("UPDATE plan SET status = 'retired', valid_to = now() WHERE layer_id = :l AND status = 'published'"),
        {"l": gl.id},
    )
    version = (session.scalar(select(func.max(Plan.version)).where(Plan.layer_id == gl.id)) or 0) + 1
    row = Plan(name=plan, layer_id=gl.id, version=version, status="published", valid_from=func.now())
    session.add(row)
    session.flush()
    for g in grids:
        session.add(
            Grid(
                plan_id=row.id,
                code=g.code,
                name=g.name,
                tier=g.tier,
                community_id=area_ids.get(g.community),
                geom=_ewkt(g.geom),
            )
        )
    session.flush()
    if notify:
        session.execute(text("SELECT pg_notify('geogrid_plans', :layer)"), {"layer": layer})
    return row


@dataclass
class Jurisdiction:
    url: str
    areas: list[Area]
    grids: list[GridSpec]
    selfgov: list[GridSpec]
    area_ids: dict[str, int]


@pytest.fixture
def jurisdiction(store_url: str) -> Jurisdiction:
    """The test district with both layers published."""
    areas, grids, selfgov = build_jurisdiction()
    with session_scope(store_url) as session:
        ids = insert_areas(session, areas)
        publish(session, "responsibility", "resp-v1", grids, ids)
        publish(session, "selfgov", "selfgov-v1", selfgov, ids)
    return Jurisdiction(store_url, areas, grids, selfgov, ids)


@pytest.fixture
def client(jurisdiction: Jurisdiction, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API over the test district; the index watcher polls rarely, so refreshes in tests come from NOTIFY."""
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "3600")
    from api.main import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def keys(jurisdiction: Jurisdiction) -> dict[str, str]:
    """API keys by role."""
    out = {}
    with session_scope(jurisdiction.url) as session:
        for role in ("operator", "admin", "reporter", "public"):
            _, out[role] = create_account(session, f"test-{role}", role)
    return out


def brute_force(geoms: list[shapely.Geometry], codes: list[str], x: float, y: float) -> str | None:
    """The documented rule by brute force: the lowest code among polygons that cover the point."""
    pt = shapely.Point(x, y)
    covering = [c for g, c in zip(geoms, codes, strict=True) if g.covers(pt)]
    return min(covering) if covering else None
