"""Overdue detection and escalation: community → street → district (DOMAIN.md defaults).

A case held by a unit past its deadline is flagged overdue and escalated to the street, which gets 2 working days;
if still unresolved it goes to the district with another 2 working days ("problems beyond the street go to the
district within 2 working days"); past that it stays flagged at district level. The handling unit keeps the case;
the street/district unit (the unit whose territory is that admin area, when one exists) supervises and may act on it.
The deadline used for 按期结案 is not moved by escalation: escalation is supervision, not forgiveness.
Each escalation's history row passes through ``supervision.hooks.after_event`` (its overdue/escalated
notifications). When the next check would fall in a year without calendar data, it is counted in calendar days
instead, and the row says so: the ladder must not stop at New Year.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.cases.calendar import CalendarMissing, WorkCalendar, load_calendar
from geogrid.cases.models import Case, CaseEvent
from geogrid.cases.workflow import CLOCK_STATES
from geogrid.store.models import Unit
from geogrid.supervision.hooks import after_event

LADDER: dict[str, tuple[str, float, str] | None] = {
    "community": ("street", 2.0, "days"),
    "street": ("district", 2.0, "days"),
    "district": None,
}


def _territorial_unit(session: Session, admin_area_id: int | None) -> int | None:
    if admin_area_id is None:
        return None
    return session.scalar(select(Unit.id).where(Unit.admin_area_id == admin_area_id).order_by(Unit.id).limit(1))


def escalate_overdue(session: Session, now: datetime | None = None, calendar: WorkCalendar | None = None) -> dict:
    """Run one pass: every case due for escalation moves one level up (rows locked, SKIP LOCKED for parallel runs)."""
    now = now or datetime.now(UTC)
    calendar = calendar or load_calendar(session)
    cases = session.scalars(
        select(Case)
        .where(Case.status.in_(CLOCK_STATES), Case.escalate_at.is_not(None), Case.escalate_at <= now)
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    ).all()
    summary = {"checked_at": now.isoformat(), "escalated": [], "overdue_at_top": []}
    for case in cases:
        newly_overdue = not case.overdue
        case.overdue = True
        step = LADDER[case.escalation_level]
        data: dict = {"from_level": case.escalation_level, "newly_overdue": newly_overdue}
        if step is None:
            case.escalate_at = None
            action = "overdue"
            data["to_level"] = case.escalation_level
            summary["overdue_at_top"].append(case.id)
        else:
            level, value, unit = step
            area = case.street_id if level == "street" else case.district_id
            supervisor = _territorial_unit(session, area)
            case.escalation_level = level
            case.escalated_unit_id = supervisor or case.escalated_unit_id
            try:
                case.escalate_at = calendar.add(now, value, unit, True)
            except CalendarMissing as exc:
                case.escalate_at = calendar.add(now, value, unit, False)
                data["calendar_missing"] = exc.year
            action = "escalate"
            data |= {
                "to_level": level,
                "supervising_unit_id": case.escalated_unit_id,
                "next_check": case.escalate_at.isoformat(),
            }
            summary["escalated"].append(case.id)
        case.updated_at = now
        event = CaseEvent(
            case_id=case.id,
            action=action,
            from_status=case.status,
            to_status=case.status,
            actor_account_id=None,
            actor_role="system",
            at=now,
            data=data,
        )
        session.add(event)
        session.flush()
        after_event(session, case, event)
    return summary
