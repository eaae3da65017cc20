"""Drafts: copy any plan into a new draft, and prepare a draft for editing (blocks and the live checks' state).

A draft made by ``copy`` is prepared at once; a draft that came from ``geogrid import grids`` or the engine is
prepared on its first edit. Preparing derives blocks from the grids as they are: the grids themselves are not
rewritten until an edit reshapes them (a copy is the original, vertex for vertex).
"""

from __future__ import annotations

from pyproj import CRS
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geogrid.crs import local_metric_crs
from geogrid.planner import blocks as blk
from geogrid.planner import journal
from geogrid.planner.checks import initial_state
from geogrid.planner.errors import BadEdit, EditRefused, PlanMissing
from geogrid.planner.models import PlanWorkbench
from geogrid.planner.roads import network_of, workbench
from geogrid.store.models import Plan
from geogrid.store.plans import lock_layer
from geogrid.validation.report import jurisdiction

Actor = tuple[str, int | None]
"""Who acts: (name, account id or None for the command line)."""
NAME_MAX = 128

_COPY_GRIDS = text(
    "INSERT INTO grid (plan_id, code, local_code, name, tier, community_id, area_m2, diameter_m, geom) "
    "SELECT :new, code, local_code, name, tier, community_id, area_m2, diameter_m, geom FROM grid "
    "WHERE plan_id = :src ORDER BY id"
)
_EXTENT = text(
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
    "(SELECT ST_Extent(geom)::geometry AS e FROM grid WHERE plan_id = :p) x"
)


def get_plan(session: Session, name: str, *, lock: bool = False) -> Plan:
    query = select(Plan).where(Plan.name == name)
    plan = session.scalar(query.with_for_update() if lock else query)
    if plan is None:
        raise PlanMissing(name, session.scalars(select(Plan.name).order_by(Plan.name).limit(20)).all())
    return plan


def plan_srid(session: Session, plan_id: int) -> int:
    """The local metric CRS (EPSG) at the centre of the plan's grids."""
    x0, y0, x1, y1 = session.execute(_EXTENT, {"p": plan_id}).one()
    if x0 is None:
        raise EditRefused("the plan has no grids", field="name")
    return int(local_metric_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0).to_epsg())


def prepare(session: Session, plan: Plan, wb: PlanWorkbench) -> int:
    """Derive the draft's blocks and compute its checks' state from scratch; returns the number of blocks."""
    srid = plan_srid(session, plan.id)
    built = blk.build(session, plan.id, wb.road_network_id, srid)
    jur, _ = jurisdiction(session, plan.id, CRS.from_epsg(srid))
    outside = blk.outside_m2(built.geoms, jur, srid)
    n = blk.store(session, plan.id, built, outside, blk.case_counts(session, built.geoms))
    wb.metric_srid = srid
    wb.checks = initial_state(session, plan.id, srid)
    session.flush()
    return n


def _check_name(session: Session, name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadEdit("name", "the new plan needs a name")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise BadEdit("name", f"at most {NAME_MAX} characters")
    existing = session.scalar(select(Plan).where(Plan.name == name))
    if existing is not None:
        raise EditRefused(
            f"plan {name!r} exists already (version {existing.version}, {existing.status}); choose another name",
            field="name",
        )
    return name


def copy_plan(session: Session, source: str, name, actor: Actor) -> Plan:
    """A new draft of the source's layer (next version) with the source's grids and road network."""
    src = get_plan(session, source)
    name = _check_name(session, name)
    layer = lock_layer(session, src.layer.name)
    version = (session.scalar(select(func.max(Plan.version)).where(Plan.layer_id == layer.id)) or 0) + 1
    draft = Plan(name=name, layer_id=layer.id, version=version, status="draft", source=f"copy of {src.name}")
    session.add(draft)
    session.flush()
    session.execute(_COPY_GRIDS, {"new": draft.id, "src": src.id})
    wb = workbench(session, draft)
    wb.parent_id, wb.road_network_id, wb.created_by = src.id, network_of(session, src.id), actor[0]
    blocks = prepare(session, draft, wb)
    journal.log(session, draft.id, "copy", actor, params={"from": src.name}, summary={"blocks": blocks})
    return draft


def open_draft(session: Session, name: str, actor: Actor) -> tuple[Plan, PlanWorkbench]:
    """The draft ``name`` locked for one edit (edits of one draft queue), prepared if it never was."""
    plan = get_plan(session, name, lock=True)
    if plan.status != "draft":
        raise EditRefused(
            f"plan {name!r} is {plan.status}: only drafts are edited; copy it first (POST /v1/plans/{name}/copy)",
            field="name",
        )
    wb = workbench(session, plan, lock=True)
    if wb.checks is None or wb.metric_srid is None:
        wb.created_by = wb.created_by or actor[0]
        prepare(session, plan, wb)
    return plan, wb


def rebuild_blocks(session: Session, plan: Plan, actor: Actor = ("geogrid", None)) -> int:
    """Blocks of a draft derived again (new roads): the undo history ends here, since old blocks are gone."""
    wb = workbench(session, plan, lock=True)
    gone = (
        session.execute(
            text(
                "UPDATE plan_edit SET state = 'discarded' WHERE plan_id = :p AND state IN ('done', 'undone') "
                "RETURNING id"
            ),
            {"p": plan.id},
        )
        .scalars()
        .all()
    )
    if gone:
        session.execute(text("DELETE FROM plan_edit_row WHERE edit_id = ANY(:ids)"), {"ids": gone})
    n = prepare(session, plan, wb)
    journal.log(session, plan.id, "roads", actor, params={"network": wb.road_network_id}, summary={"blocks": n})
    return n
