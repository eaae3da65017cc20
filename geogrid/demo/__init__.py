"""The demo city: the sample district loaded, a grid plan generated from its roads and published, people assigned.

Everything comes from the repository (``data/boundaries``) and the seeded generator (``geogrid.demo.district``),
so a fresh machine needs nothing else. Running it again replaces the demo plan with a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geogrid.config import PartitionConfig
from geogrid.demo.district import small_district
from geogrid.partition import partition
from geogrid.planner.roads import attach_roads
from geogrid.store.db import session_scope
from geogrid.store.imports import import_admin
from geogrid.store.models import AdminArea, GridAssignment, GridLayer, Person, Plan, Unit
from geogrid.store.plans import publish_plan, save_draft_plan

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "boundaries"
DEMO_SEED = 2024
DEMO_LAYER = "responsibility"
DEMO_GRID_COUNT = 32
"""About two responsibility grids per community (~0.3 km² each), within DOMAIN's 0.2–2 km² range."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


@dataclass
class DemoSummary:
    admin_areas: int
    plan: str
    grids: int
    people: int
    report: dict


def _load_admin(session: Session) -> int:
    import_admin(session, DATA_DIR / "demo_district.geojson", "district")
    import_admin(session, DATA_DIR / "demo_streets.geojson", "street", parent_field="parent_code", crs="gcj02")
    import_admin(session, DATA_DIR / "demo_communities.geojson", "community", parent_field="parent_code")
    return session.scalar(select(func.count()).select_from(AdminArea))


def _territorial_units(session: Session) -> None:
    """One territorial unit (属地) per admin area: the district office, street offices, community committees."""
    suffix = {"district": "人民政府", "street": "办事处", "community": "居委会"}
    for area in session.scalars(select(AdminArea)):
        code = f"terr-{area.code}"
        if session.scalar(select(Unit).where(Unit.code == code)) is None:
            session.add(
                Unit(code=code, name=f"{area.name}{suffix[area.level]}", kind="territorial", admin_area_id=area.id)
            )
    session.flush()


def _next_plan_name(session: Session) -> str:
    layer = session.scalar(select(GridLayer).where(GridLayer.name == DEMO_LAYER))
    version = (
        1
        if layer is None
        else 1 + (session.scalar(select(func.max(Plan.version)).where(Plan.layer_id == layer.id)) or 0)
    )
    return f"demo-{DEMO_LAYER}-v{version}"


def _assign_people(session: Session, layer_name: str, codes: list[str]) -> int:
    """A grid chief (网格长) and two grid members (网格员) per grid, with invented names and phone numbers."""
    layer = session.scalar(select(GridLayer).where(GridLayer.name == layer_name))
    rng = np.random.default_rng(DEMO_SEED)
    added = 0
    for code in codes:
        if session.scalar(
            select(GridAssignment).where(GridAssignment.layer_id == layer.id, GridAssignment.grid_code == code)
        ):
            continue
        community = session.scalar(select(Unit).where(Unit.code == f"terr-{code[:12]}"))
        for role in ("网格长", "网格员", "网格员"):
            name = rng.choice(list(SURNAMES)) + "".join(rng.choice(list(GIVEN), size=rng.integers(1, 3)))
            person = Person(
                name=name, phone=f"139{rng.integers(0, 10**8):08d}", unit_id=community.id if community else None
            )
            session.add(person)
            session.flush()
            session.add(GridAssignment(layer_id=layer.id, grid_code=code, person_id=person.id, role=role))
            added += 1
    return added


def load_demo(url: str | None = None, progress: bool = True) -> DemoSummary:
    """Load the sample district, generate a plan from its roads, publish it and staff its grids."""
    with session_scope(url) as session:
        areas = _load_admin(session)
        _territorial_units(session)
    district = small_district(seed=DEMO_SEED)
    result = partition(
        district.roads,
        district.boundary,
        communities=district.communities,
        tier_zones=district.tier_zones,
        config=PartitionConfig(target_count=DEMO_GRID_COUNT),
        progress=progress,
    )
    with session_scope(url) as session:
        name = _next_plan_name(session)
        saved = save_draft_plan(
            session, result.grids, layer=DEMO_LAYER, plan=name, source="geogrid demo", report=result.report
        )
        attach_roads(session, saved, result.centerlines, source="geogrid demo (synthetic roads)")
    publish_plan(url, name)
    with session_scope(url) as session:
        people = _assign_people(session, DEMO_LAYER, list(result.grids["code"]))
    return DemoSummary(areas, name, len(result.grids), people, result.report)
