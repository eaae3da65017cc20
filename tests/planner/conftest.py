"""Fixtures of the workbench tests: a small plan whose every block is known, the real Helsinki plan, an API client.

The small plan ("checkerboard") lies in CGCS2000 Gauss-Krüger CM 114°E (EPSG:4547) around Wuhan, so the store's
metric CRS for it is the CRS it was drawn in and areas come out exact: a district of 600 × 400 m, two communities
(west x < 400 m, east x ≥ 400 m), six grids of 200 × 200 m, and streets every 100 m, so every grid is four
100 × 100 m blocks. Codes run west→east, north→south inside each community.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from geogrid.cases.models import Case
from geogrid.planner.roads import attach_roads
from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import AdminArea, GridAssignment, Person, Unit
from geogrid.store.plans import publish_plan, save_draft_plan

GK = 4547
X0, Y0 = 500_000.0, 3_380_000.0  # easting / northing of the district's south-west corner (≈ 114.0°E, 30.5°N)
STEP = 100.0
DISTRICT, STREET = "420102", "420102001"
WEST, EAST = "420102001001", "420102001002"
LAYER, PUBLISHED = "unit", "棋盘-2026"


def square(i0: float, j0: float, i1: float, j1: float) -> shapely.Polygon:
    """The rectangle from (i0, j0) to (i1, j1) in 100 m steps from the south-west corner (metric)."""
    return shapely.box(X0 + i0 * STEP, Y0 + j0 * STEP, X0 + i1 * STEP, Y0 + j1 * STEP)


def to_store(geom):
    """A metric geometry in the store CRS, densified first (10 m) so its edges follow the metric straight lines."""
    return gpd.GeoSeries([shapely.segmentize(geom, 10.0)], crs=GK).to_crs(4490).iloc[0]


def metric(geom):
    return gpd.GeoSeries([geom], crs=4490).to_crs(GK).iloc[0]


GRID_CELLS = {  # code → (i0, j0) of its 200 m square; W→E, N→S inside each community
    f"{WEST}001": (0, 2),
    f"{WEST}002": (2, 2),
    f"{WEST}003": (0, 0),
    f"{WEST}004": (2, 0),
    f"{EAST}001": (4, 2),
    f"{EAST}002": (4, 0),
}


def grid_square(code: str) -> shapely.Polygon:
    i, j = GRID_CELLS[code]
    return square(i, j, i + 2, j + 2)


def streets() -> gpd.GeoDataFrame:
    lines = [shapely.LineString([(X0 + i * STEP, Y0 - 50), (X0 + i * STEP, Y0 + 450)]) for i in range(7)]
    lines += [shapely.LineString([(X0 - 50, Y0 + j * STEP), (X0 + 650, Y0 + j * STEP)]) for j in range(5)]
    cls = [1 if k in (0, 4, 6) else 3 for k in range(7)] + [2 if k == 2 else 3 for k in range(5)]
    lines = shapely.segmentize(lines, 10.0)
    return gpd.GeoDataFrame({"road_class": cls, "highway": ["residential"] * len(lines)}, geometry=lines, crs=GK)


@dataclass
class Checkerboard:
    url: str
    planner_key: str
    reporter_key: str
    community_ids: dict[str, int]


def _admin(session, level: str, code: str, name: str, geom, parent: int | None) -> int:
    wkt = shapely.MultiPolygon([to_store(geom)]).wkt
    row = AdminArea(level=level, code=code, name=name, parent_id=parent, geom=f"SRID=4490;{wkt}")
    session.add(row)
    session.flush()
    return row.id


def build_checkerboard(url: str, roads: bool = True, width: int = 6) -> Checkerboard:
    """The checkerboard published; ``width`` (100 m steps) > 6 leaves a gap east of the grids, inside the district."""
    with session_scope(url) as s:
        d = _admin(s, "district", DISTRICT, "江岸区", square(0, 0, width, 4), None)
        st = _admin(s, "street", STREET, "大智街道", square(0, 0, width, 4), d)
        ids = {
            WEST: _admin(s, "community", WEST, "长春社区", square(0, 0, 4, 4), st),
            EAST: _admin(s, "community", EAST, "球场社区", square(4, 0, width, 4), st),
        }
        grids = gpd.GeoDataFrame(
            {
                "code": list(GRID_CELLS),
                "name": [f"{c[-3:]}号网格" for c in GRID_CELLS],
                "tier": ["A", "A", "B", "B", "C", "C"],
                "community_code": [c[:12] for c in GRID_CELLS],
            },
            geometry=[shapely.segmentize(grid_square(c), 10.0) for c in GRID_CELLS],
            crs=GK,
        )
        plan = save_draft_plan(s, grids, layer=LAYER, plan=PUBLISHED, source="checkerboard")
        if roads:
            attach_roads(s, plan, streets(), source="checkerboard streets")
        _, planner = create_account(s, "planner-1", "planner")
        _, reporter = create_account(s, "reporter-1", "reporter")
    publish_plan(url, PUBLISHED)
    return Checkerboard(url, planner, reporter, ids)


@pytest.fixture
def board(store_url: str) -> Checkerboard:
    return build_checkerboard(store_url)


@pytest.fixture
def client(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "3600")
    from api.main import create_app

    with TestClient(create_app()) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def seed_case(session, lon: float, lat: float, grid_code: str, status: str = "dispatched", layer: str = LAYER) -> int:
    """An open (or closed) case routed to ``grid_code`` of ``layer`` at intake, as ``submit_report`` stores it."""
    now = datetime.now(UTC)
    case = Case(
        status=status,
        category="event:0102",
        urgency="normal",
        channel="public",
        description="路边垃圾堆积",
        lon=lon,
        lat=lat,
        geom=f"SRID=4490;POINT({lon} {lat})",
        crs_in="EPSG:4490",
        grid_code=grid_code,
        route={"layer": layer, "grid_code": grid_code, "grids": {layer: {"code": grid_code}}},
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    return case.id


def staff(session, layer: str, code: str, person: str, role: str = "网格长") -> tuple[int, int]:
    """A person assigned to grid ``code`` (with a unit of their own); returns (assignment id, person id)."""
    unit = Unit(code=f"u-{person}", name=f"{person}的单位", kind="workstation")
    session.add(unit)
    session.flush()
    p = Person(name=person, unit_id=unit.id)
    session.add(p)
    session.flush()
    layer_id = session.execute(text("SELECT id FROM grid_layer WHERE name = :n"), {"n": layer}).scalar_one()
    a = GridAssignment(layer_id=layer_id, grid_code=code, person_id=p.id, role=role)
    session.add(a)
    session.flush()
    return a.id, p.id


def responsible(session, layer: str, code: str, unit_code: str) -> int:
    """A unit answering for grid ``code`` (``grid_responsibility``); returns the row id."""
    unit = Unit(code=unit_code, name=f"{unit_code}工作站", kind="workstation")
    session.add(unit)
    session.flush()
    layer_id = session.scalar(text("SELECT id FROM grid_layer WHERE name = :n").bindparams(n=layer))
    return session.execute(
        text("INSERT INTO grid_responsibility (layer_id, grid_code, unit_id) VALUES (:l, :c, :u) RETURNING id"),
        {"l": layer_id, "c": code, "u": unit.id},
    ).scalar_one()


def block_ids(session, plan: str, code: str) -> list[int]:
    return list(
        session.execute(
            text(
                "SELECT b.id FROM plan_block b JOIN plan p ON p.id = b.plan_id WHERE p.name = :p AND b.grid_code = :c "
                "ORDER BY b.id"
            ),
            {"p": plan, "c": code},
        ).scalars()
    )


def block_at(session, plan: str, x: float, y: float) -> int:
    """The block of ``plan`` containing metric point (x, y) (EPSG:4547)."""
    pt = to_store(shapely.Point(x, y))
    return session.execute(
        text(
            "SELECT b.id FROM plan_block b JOIN plan p ON p.id = b.plan_id WHERE p.name = :p "
            "AND ST_Contains(b.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
        ),
        {"p": plan, "x": pt.x, "y": pt.y},
    ).scalar_one()


def grid_geoms(url: str, plan: str) -> dict[str, shapely.Geometry]:
    """The plan's grids in EPSG:4547 by code."""
    with session_scope(url) as s:
        rows = s.execute(
            text("SELECT g.code, ST_AsBinary(g.geom) FROM grid g JOIN plan p ON p.id = g.plan_id WHERE p.name = :p"),
            {"p": plan},
        ).all()
    return {code: metric(shapely.from_wkb(bytes(wkb))) for code, wkb in rows}


def lonlat(x: float, y: float) -> tuple[float, float]:
    pt = to_store(shapely.Point(x, y))
    return pt.x, pt.y


def geojson(geom) -> dict:
    """A metric geometry as GeoJSON in lon/lat."""
    return json.loads(shapely.to_geojson(to_store(geom)))
