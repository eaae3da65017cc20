"""What every case event also writes, in the same transaction: its notification and, for closures, its filing.

``NOTIFY`` is the table of which actions tell the outside world, and as what. The escalation job's first escalation
of a case is also its overdue notice, so it emits ``case.overdue`` before ``case.escalated``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.cases.models import Case, CaseEvent
from geogrid.notify.outbox import emit
from geogrid.store.models import Unit

NOTIFY: dict[str, str] = {
    "dispatch": "case.assigned",
    "warn": "case.warning",
    "overdue": "case.overdue",
    "escalate": "case.escalated",
    "report_up": "case.escalated",
    "return": "case.returned",
    "close": "case.closed",
    "close_on_spot": "case.closed",
}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def case_summary(session: Session, case: Case) -> dict:
    """What a receiver needs to route the message; no reporter identity, contact, address or description."""
    from geogrid.supervision.joint import co_unit_ids

    unit = session.execute(select(Unit.id, Unit.code, Unit.name).where(Unit.id == case.unit_id)).first()
    return {
        "id": case.id,
        "href": f"/v1/cases/{case.id}",
        "status": case.status,
        "category": case.category,
        "urgency": case.urgency,
        "channel": case.channel,
        "grid_code": case.grid_code,
        "unit": None if unit is None else {"id": unit.id, "code": unit.code, "name": unit.name},
        "co_unit_ids": co_unit_ids(session, case.id),
        "supervising_unit_id": case.escalated_unit_id,
        "street_id": case.street_id,
        "district_id": case.district_id,
        "centre_level": case.centre_level,
        "escalation_level": case.escalation_level,
        "due_at": _iso(case.due_at),
        "overdue": case.overdue,
        "close_type": case.close_type,
    }


def notification_kinds(event: CaseEvent) -> list[str]:
    kinds = [NOTIFY[event.action]] if event.action in NOTIFY else []
    if event.action == "escalate" and (event.data or {}).get("newly_overdue"):
        kinds.insert(0, "case.overdue")
    return kinds


def after_event(session: Session, case: Case, event: CaseEvent) -> None:
    """Queue the event's notifications and file what must be filed; the caller's transaction commits all."""
    from geogrid.supervision.filing import file_after

    kinds = notification_kinds(event)
    if kinds:
        payload = {
            "case": case_summary(session, case),
            "event": {
                "action": event.action,
                "from": event.from_status,
                "to": event.to_status,
                "at": _iso(event.at),
                "role": event.actor_role,
                "data": event.data,
            },
        }
        for kind in kinds:
            emit(session, kind, case.id, payload, event.at)
    file_after(session, case, event)
