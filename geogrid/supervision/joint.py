"""Joint cases (联合处置, seeds/002 and 004): a lead unit (``case_report.unit_id``) and co-handling units, each with
its own feedback. The lead's ``feedback`` closes the handling only once every co-handler has given theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geogrid.cases.models import Case
from geogrid.store.models import Unit
from geogrid.supervision.models import CaseUnit


def co_unit_ids(session: Session, case_id: int) -> list[int]:
    return list(session.scalars(select(CaseUnit.unit_id).where(CaseUnit.case_id == case_id).order_by(CaseUnit.id)))


def _routed_co_units(case: Case) -> list[int]:
    return [u["id"] for u in (case.route or {}).get("co_units") or [] if isinstance(u, dict) and u.get("id")]


def assign_co_units(session: Session, case: Case, requested: Iterable[int] | None, at: datetime) -> list[int]:
    """Set the co-handlers at dispatch: the ones asked for, else those the duty rules gave at intake.

    A re-dispatch without ``co_unit_ids`` keeps the co-handlers (and their feedback) already assigned.
    """
    from geogrid.cases.workflow import BadParameter

    current = co_unit_ids(session, case.id)
    asked = None if requested is None else list(dict.fromkeys(int(u) for u in requested))
    wanted = [u for u in (current or _routed_co_units(case) if asked is None else asked) if u != case.unit_id]
    known = set(session.scalars(select(Unit.id).where(Unit.id.in_(wanted)))) if wanted else set()
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise BadParameter(f"co-handling units {unknown} do not exist", "co_unit_ids", "unknown unit")
    session.execute(delete(CaseUnit).where(CaseUnit.case_id == case.id, CaseUnit.unit_id.not_in(wanted or [-1])))
    if wanted:
        rows = [{"case_id": case.id, "unit_id": u, "assigned_at": at} for u in wanted]
        session.execute(insert(CaseUnit).values(rows).on_conflict_do_nothing(constraint="case_unit_once"))
    return wanted


def record_co_feedback(session: Session, case_id: int, actor, note: str, at: datetime) -> None:
    row = session.scalar(select(CaseUnit).where(CaseUnit.case_id == case_id, CaseUnit.unit_id == actor.unit_id))
    row.feedback, row.feedback_at, row.feedback_account_id = note, at, actor.account_id


def missing_feedback(session: Session, case_id: int) -> list[int]:
    """Co-handling units that have not fed back yet."""
    stmt = select(CaseUnit.unit_id).where(CaseUnit.case_id == case_id, CaseUnit.feedback_at.is_(None))
    return list(session.scalars(stmt.order_by(CaseUnit.id)))


def co_units_view(session: Session, case_id: int) -> list[dict]:
    rows = session.execute(
        select(CaseUnit, Unit.code, Unit.name)
        .join(Unit, Unit.id == CaseUnit.unit_id)
        .where(CaseUnit.case_id == case_id)
        .order_by(CaseUnit.id)
    ).all()
    return [
        {
            "unit": {"id": row.unit_id, "code": code, "name": name},
            "assigned_at": row.assigned_at.isoformat(),
            "feedback": row.feedback,
            "feedback_at": row.feedback_at.isoformat() if row.feedback_at else None,
        }
        for row, code, name in rows
    ]


def unit_cases_condition(unit_id: int):
    """Cases a unit holds: dispatched to it, supervised by it, or co-handled by it (for per-unit case lists)."""
    co = select(CaseUnit.case_id).where(CaseUnit.unit_id == unit_id)
    return or_(Case.unit_id == unit_id, Case.escalated_unit_id == unit_id, Case.id.in_(co))
