"""A small published jurisdiction for case tests, written as ORM rows, with routing rules through routing's API.

District 420102 → street 420102001 → communities 420102001001 (west) and 420102001002 (east), each split into a
north and a south grid of layer ``responsibility`` (plan published). Every admin area has a territorial unit;
event rules route to the community, ``component:01`` to its owner department.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, box

from geogrid.routing.catalogue import import_catalogue
from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import AdminArea, Grid, GridLayer, Plan, Unit

W, S, E, N = 114.30, 30.58, 114.32, 30.60
MID_X, MID_Y = (W + E) / 2, (S + N) / 2
CATALOGUE = {
    "units": [{"code": "dept-cgzf", "name": "城市综合执法大队", "kind": "department"}],
    "rules": [
        {"category": "event:01", "name": "市容环境", "territorial_level": "community"},
        {"category": "event:0102", "name": "暴露垃圾", "territorial_level": "community"},
        {"category": "event:04", "name": "街面秩序", "territorial_level": "community"},
        {"category": "component:01", "name": "公用设施", "owner_unit": "dept-cgzf"},
    ],
    "time_limits": [
        {"category": "event:0102", "urgency": "normal", "value": 4, "unit": "hours"},
        {"category": "event:0102", "urgency": "urgent", "value": 2, "unit": "hours"},
        {"category": "event:0101", "urgency": "normal", "value": 2, "unit": "days"},
    ],
}


def ewkt(geom) -> str:
    return f"SRID=4490;{MultiPolygon([geom]).wkt}"


@dataclass
class City:
    url: str
    areas: dict[str, int] = field(default_factory=dict)  # code → admin_area.id
    units: dict[str, int] = field(default_factory=dict)  # code → unit.id
    west: tuple[float, float] = (W + 0.0025, S + 0.005)  # inside community 001, south grid
    east: tuple[float, float] = (E - 0.0025, N - 0.005)  # inside community 002, north grid
    outside: tuple[float, float] = (E + 0.05, N + 0.05)


def build_city(url: str) -> City:
    city = City(url)
    with session_scope(url) as session:
        specs = [
            ("district", "420102", "江岸区", box(W, S, E, N), None),
            ("street", "420102001", "大智街道", box(W, S, E, N), "420102"),
            ("community", "420102001001", "西社区", box(W, S, MID_X, N), "420102001"),
            ("community", "420102001002", "东社区", box(MID_X, S, E, N), "420102001"),
        ]
        for level, code, name, geom, parent in specs:
            row = AdminArea(level=level, code=code, name=name, geom=ewkt(geom), parent_id=city.areas.get(parent))
            session.add(row)
            session.flush()
            city.areas[code] = row.id
            unit = Unit(code=f"u-{code}", name=f"{name}工作站", kind="territorial", admin_area_id=row.id)
            session.add(unit)
            session.flush()
            city.units[code] = unit.id
        layer = GridLayer(name="responsibility", title="责任网格")
        session.add(layer)
        session.flush()
        plan = Plan(name="resp-v1", layer_id=layer.id, version=1, status="published")
        session.add(plan)
        session.flush()
        for comm, x0, x1 in (("420102001001", W, MID_X), ("420102001002", MID_X, E)):
            for seq, (y0, y1) in enumerate(((MID_Y, N), (S, MID_Y)), start=1):
                session.add(
                    Grid(
                        plan_id=plan.id,
                        code=f"{comm}{seq:03d}",
                        tier="A",
                        community_id=city.areas[comm],
                        geom=ewkt(box(x0, y0, x1, y1)),
                    )
                )
        import_catalogue(session, CATALOGUE, "tests")
        session.flush()
        city.units["dept-cgzf"] = session.query(Unit.id).filter(Unit.code == "dept-cgzf").scalar()
    return city


@pytest.fixture
def city(store_url: str) -> City:
    return build_city(store_url)


@pytest.fixture
def keys(city: City) -> dict[str, str]:
    """API keys: one account per role, plus unit accounts for the west community and the street."""
    out: dict[str, str] = {}
    with session_scope(city.url) as session:
        for role in ("operator", "reporter", "collector", "planner", "admin", "public"):
            _, out[role] = create_account(session, f"t-{role}", role)
        _, out["reporter2"] = create_account(session, "t-reporter2", "reporter")
        _, out["unit_west"] = create_account(session, "t-unit-west", "unit", city.units["420102001001"])
        _, out["unit_east"] = create_account(session, "t-unit-east", "unit", city.units["420102001002"])
        _, out["unit_street"] = create_account(session, "t-unit-street", "unit", city.units["420102001"])
    return out


@pytest.fixture
def media_dir(tmp_path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "media"
    monkeypatch.setenv("GEOGRID_MEDIA_DIR", str(path))
    return path


@pytest.fixture
def client(city: City, media_dir, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "3600")
    from api.main import create_app

    with TestClient(create_app()) as c:
        yield c


def png_bytes(width: int = 2, height: int = 2, shade: int = 0) -> bytes:
    """A real, decodable PNG made here (no fixture files)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes([shade % 256, 0, 0]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def h(key: str, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, **extra}


def report_body(point: tuple[float, float], category: str = "event:0102", **extra) -> dict:
    return {
        "lon": point[0],
        "lat": point[1],
        "crs": "wgs84",
        "category": category,
        "description": "路边暴露垃圾",
        "contact": "13800000000",
        "reporter_name": "张三",
        **extra,
    }
