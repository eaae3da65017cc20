"""Case views by audience; privacy lives here and nowhere else.

- ``operator`` (operators, admins): everything, including reporter identity and contact and who did each step.
- ``staff`` (collectors, units, planners): exact location and history roles, no reporter identity or contact.
- ``public`` (anonymous callers and citizen reporters): category, status, dates, coordinates rounded to 4 decimals
  (~10 m); the reporter's free text (description, address) never: ``description`` is the operator-approved public
  summary (None until one is approved), ``address`` is None; no contact, no account ids, no notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.cases.categories import describe
from geogrid.cases.models import TERMINAL, Case, CaseEvent, CasePhoto
from geogrid.store.models import Unit
from geogrid.supervision.joint import co_units_view

PUBLIC_DECIMALS = 4  # 1e-4 degree ≈ 11 m of latitude
OPERATOR_ROLES = ("operator", "admin")
STAFF_ROLES = ("collector", "unit", "planner")


def audience_for(role: str) -> str:
    if role in OPERATOR_ROLES:
        return "operator"
    if role in STAFF_ROLES:
        return "staff"
    return "public"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _unit(session: Session, unit_id: int | None) -> dict | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return {"id": unit.id, "code": unit.code, "name": unit.name} if unit else {"id": unit_id}


def _routed_unit(route: dict) -> dict | None:
    unit = route.get("unit")
    return None if unit is None else {"id": unit["id"], "code": unit["code"], "name": unit["name"]}


def _photos(session: Session, case_id: int) -> list[dict]:
    return [
        {"id": p.id, "kind": p.kind, "content_type": p.content_type, "size_bytes": p.size_bytes}
        for p in session.scalars(select(CasePhoto).where(CasePhoto.case_id == case_id).order_by(CasePhoto.id))
    ]


def case_view(session: Session, case: Case, audience: str, *, history: bool = True, fresh: bool = False) -> dict:
    """A JSON-ready view of ``case`` for ``audience`` (see the module docstring).

    ``fresh``: the case was just stored by intake without photos, so it has no co-units, photos or supervising
    unit yet and its unit is the routed one: the view is built without a query (intake's round-trip budget)."""
    public = audience == "public"
    route = case.route or {}
    lon, lat = (round(case.lon, PUBLIC_DECIMALS), round(case.lat, PUBLIC_DECIMALS)) if public else (case.lon, case.lat)
    view = {
        "id": case.id,
        "status": case.status,
        "open": case.status not in TERMINAL,
        "category": describe(case.category),
        "urgency": case.urgency,
        "channel": case.channel,
        "description": case.public_summary if public else case.description,
        "address": None if public else case.address,
        "location": {"lon": lon, "lat": lat, "crs": "EPSG:4490", "rounded": public},
        "grid_code": case.grid_code,
        "grids": route.get("grids"),
        "community": route.get("community"),
        "street": route.get("street"),
        "district": route.get("district"),
        "unit": _routed_unit(route) if fresh else _unit(session, case.unit_id),
        "time_limit": None
        if case.time_limit_value is None
        else {"value": case.time_limit_value, "unit": case.time_limit_unit, "working": case.time_limit_working},
        "due_at": _iso(case.due_at),
        "dispatched_at": _iso(case.dispatched_at),
        "closed_at": _iso(case.closed_at),
        "close_type": case.close_type,
        "overdue": case.overdue,
        "escalation_level": case.escalation_level,
        "rework_count": case.rework_count,
        "extension_count": case.extension_count,
        "possible_duplicate_of": case.duplicate_of_id,
        "centre_level": case.centre_level,
        "on_spot": case.on_spot,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
    }
    if not public:
        view["public_summary"] = case.public_summary
        view["routing_rule"] = route.get("rule")
        view["supervising_unit"] = _unit(session, case.escalated_unit_id)
        view["pending_extension"] = case.pending_extension
        view["co_units"] = [] if fresh else co_units_view(session, case.id)
        view["satisfaction"] = case.satisfaction
        view["photos"] = [] if fresh else _photos(session, case.id)
    if audience == "operator":
        view["reporter"] = {
            "account_id": case.reporter_account_id,
            "name": case.reporter_name,
            "contact": case.reporter_contact,
        }
        view["location_as_sent"] = {"crs": case.crs_in}
    if history:
        view["history"] = history_view(session, case.id, audience)
    return view


def history_view(session: Session, case_id: int, audience: str) -> list[dict]:
    events: Sequence[CaseEvent] = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    out = []
    for e in events:
        item = {"action": e.action, "from": e.from_status, "to": e.to_status, "at": _iso(e.at), "role": e.actor_role}
        if audience != "public":
            item["note"] = e.note
            item["data"] = e.data
        if audience == "operator":
            item["actor_account_id"] = e.actor_account_id
        out.append(item)
    return out
