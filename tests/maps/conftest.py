"""Fixtures for the map layers: a small store with admin areas, a published and a draft plan, and a live server.

Rows are inserted through the ORM directly so these tests do not depend on the import/publish code paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import AdminArea, Grid, GridAssignment, GridLayer, Person, Plan, Unit
from tests.serving import uvicorn_server

ROOT = Path(__file__).resolve().parents[2]
LON0, LAT0, STEP = 114.30, 30.55, 0.01
"""The published plan tiles a 3 × 2 block of 0.01° cells (≈ 1 km) from (LON0, LAT0)."""
PHONE = "13800138000"


def cell(i: int, j: int, step: float = STEP) -> shapely.Polygon:
    return box(LON0 + i * step, LAT0 + j * step, LON0 + (i + 1) * step, LAT0 + (j + 1) * step)


def multi(geom) -> object:
    return from_shape(MultiPolygon([geom]), srid=4490)


@dataclass
class MapStore:
    url: str
    layer: str
    published: str
    draft: str
    cells: dict[str, shapely.Polygon]
    draft_cells: dict[str, shapely.Polygon]
    planner_key: str
    reporter_key: str


def add_plan(
    session,
    layer: GridLayer,
    name: str,
    version: int,
    status: str,
    cells: dict[str, tuple[shapely.Polygon, str, int | None]],
    report: dict | None = None,
    valid_from: datetime | None = None,
) -> Plan:
    """A plan with grids ``code -> (polygon, tier, community id)``."""
    plan = Plan(
        name=name,
        layer_id=layer.id,
        version=version,
        status=status,
        valid_from=valid_from if status != "draft" else None,
        report=report,
    )
    session.add(plan)
    session.flush()
    for code, (poly, tier, community_id) in cells.items():
        session.add(
            Grid(
                plan_id=plan.id,
                code=code,
                name=f"{code[-3:]}号网格",
                tier=tier,
                community_id=community_id,
                area_m2=1.0e6,
                diameter_m=1400.0,
                geom=multi(poly),
            )
        )
    session.flush()
    return plan


def publish_by_rows(url: str, layer: str, name: str, cells: dict[str, shapely.Polygon], version: int) -> None:
    """What publishing does to the rows: retire the old plan, publish a new one, notify in the same transaction."""
    with session_scope(url) as s:
        lay = s.query(GridLayer).filter_by(name=layer).one()
        now = datetime.now(UTC)
        s.query(Plan).filter_by(layer_id=lay.id, status="published").update({"status": "retired", "valid_to": now})
        add_plan(s, lay, name, version, "published", {c: (p, "A", None) for c, p in cells.items()}, valid_from=now)
        s.execute(text("SELECT pg_notify('geogrid_plans', :layer)"), {"layer": layer})


@pytest.fixture
def map_store(store_url: str) -> MapStore:
    tiers = ["A", "B", "C", "A", "B", "C"]
    with session_scope(store_url) as s:
        district = AdminArea(
            level="district", code="420102", name="江岸区", geom=multi(box(114.29, 30.54, 114.34, 30.58))
        )
        s.add(district)
        s.flush()
        street = AdminArea(
            level="street",
            code="420102001",
            name="大智街道",
            parent_id=district.id,
            geom=multi(cell(0, 0).union(cell(2, 1)).envelope),
        )
        s.add(street)
        s.flush()
        west = AdminArea(
            level="community",
            code="420102001001",
            name="长春社区",
            parent_id=street.id,
            geom=multi(box(114.30, 30.55, 114.315, 30.57)),
        )
        east = AdminArea(
            level="community",
            code="420102001002",
            name="球场社区",
            parent_id=street.id,
            geom=multi(box(114.315, 30.55, 114.33, 30.57)),
        )
        s.add_all([west, east])
        s.flush()
        layer = GridLayer(name="unit", title="责任网格")
        s.add(layer)
        s.flush()
        cells = {}
        rows = {}
        for k, (i, j) in enumerate([(i, j) for j in range(2) for i in range(3)]):
            code = f"420102001{'001' if i < 2 else '002'}{k + 1:03d}"
            cells[code] = cell(i, j)
            rows[code] = (cells[code], tiers[k], west.id if i < 2 else east.id)
        report = {
            "grids": 6,
            "gaps_m2": 0.0,
            "overlaps_m2": 0.0,
            "max_diameter_m": 1400.0,
            "tiers": {"A": 2, "B": 2, "C": 2},
        }
        add_plan(
            s, layer, "江岸区-2026", 1, "published", rows, report=report, valid_from=datetime(2026, 1, 1, tzinfo=UTC)
        )
        draft_cells = {f"420102001001{k + 101:03d}": cell(i, 0, 2 * STEP) for k, i in enumerate(range(2))}
        add_plan(s, layer, "江岸区-2026-草案", 2, "draft", {c: (p, "B", west.id) for c, p in draft_cells.items()})
        unit = Unit(code="JA-CG", name="江岸区城管执法大队", kind="department")
        territory = Unit(code="DZ-JD", name="大智街道办事处", kind="territory", admin_area_id=street.id)
        s.add_all([unit, territory])
        s.flush()
        chief = Person(name="李网格", phone=PHONE, unit_id=unit.id)
        s.add(chief)
        s.flush()
        s.add(GridAssignment(layer_id=layer.id, grid_code=next(iter(cells)), person_id=chief.id, role="网格长"))
        station = Unit(code="CC-GZ", name="长春社区网格工作站", kind="workstation")
        s.add(station)
        s.flush()
        s.execute(
            text("INSERT INTO grid_responsibility (layer_id, grid_code, unit_id) VALUES (:l, :c, :u)"),
            {"l": layer.id, "c": next(iter(cells)), "u": station.id},
        )
        _, planner_key = create_account(s, "planner-1", "planner")
        _, reporter_key = create_account(s, "reporter-1", "reporter")
    return MapStore(store_url, "unit", "江岸区-2026", "江岸区-2026-草案", cells, draft_cells, planner_key, reporter_key)


@pytest.fixture
def live_server(map_store: MapStore, tmp_path: Path) -> Iterator[str]:
    """uvicorn on a free loopback port against the test store; yields its base URL."""
    with uvicorn_server(map_store.url, tmp_path / "uvicorn.log") as base:
        yield base
