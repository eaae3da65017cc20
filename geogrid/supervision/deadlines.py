"""Deadline supervision: a warning when a share of the time limit has elapsed (default 80 %), then the overdue
escalation of ``geogrid.cases.escalation`` (seeds/004: 设置案件处置警示提醒标准…实时传送提醒信息).

The warning moment is fixed when the clock starts (and again when an extension is approved): the point at which
``share`` of the working time from dispatch to the deadline has elapsed. A pass warns every case whose moment has
come, once, writing a ``warn`` history row whose notification travels through the outbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.cases.calendar import WorkCalendar, load_calendar
from geogrid.cases.escalation import escalate_overdue
from geogrid.cases.models import Case, CaseEvent
from geogrid.cases.workflow import CLOCK_STATES
from geogrid.notify.settings import NotifySettings
from geogrid.supervision.hooks import after_event


def warn_point(case: Case, calendar: WorkCalendar, share: float) -> datetime | None:
    """When ``share`` of the time from the (current) dispatch to the deadline has elapsed, in the case's time kind."""
    start, due = case.dispatched_at, case.due_at
    if start is None or due is None:
        return None
    if not case.time_limit_working:
        return start + (due - start) * share
    allowed = calendar.working_time(start, due)
    return calendar.add(start, share * allowed.total_seconds() / 3600.0, "hours", True)


def warn_due(session: Session, now: datetime, share: float) -> list[int]:
    """Warn every case held by a unit whose warning moment has passed (rows locked, SKIP LOCKED)."""
    cases = session.scalars(
        select(Case)
        .where(Case.status.in_(CLOCK_STATES), Case.warn_at.is_not(None), Case.warn_at <= now)
        .order_by(Case.warn_at, Case.id)
        .with_for_update(skip_locked=True)
    ).all()
    for case in cases:
        remaining = (case.due_at - now).total_seconds() / 3600.0 if case.due_at else None
        event = CaseEvent(
            case_id=case.id,
            action="warn",
            from_status=case.status,
            to_status=case.status,
            actor_role="system",
            at=now,
            data={"due_at": case.due_at.isoformat() if case.due_at else None, "share": share,
                  "hours_to_deadline": None if remaining is None else round(remaining, 3)},
        )  # fmt: skip
        case.warn_at, case.warned_at = None, now
        session.add(event)
        session.flush()
        after_event(session, case, event)
    return [c.id for c in cases]


def tick(session: Session, now: datetime, settings: NotifySettings | None = None) -> dict:
    """One supervision pass: warnings first, then overdue escalation; safe to run from several workers at once."""
    settings = settings or NotifySettings.from_env()
    calendar = load_calendar(session)
    warned = warn_due(session, now, settings.warn_share)
    summary = escalate_overdue(session, now, calendar)
    return {"warned": warned, **summary}
