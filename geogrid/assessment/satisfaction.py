"""The reporter's satisfaction (满意度, 1–5) with a closed case; seeds/001 assesses grid staff on it.

Only the account that reported the case may rate it (an app relaying a citizen's rating uses the account it reported
with), only once the case is closed (not as an error), and only once: a second rating is refused, not overwritten.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from geogrid.cases.models import Case, CaseEvent
from geogrid.cases.workflow import Actor, BadParameter, NotReady, RoleNotAllowed


def rate(session: Session, case: Case, actor: Actor, value, note: str | None = None, at: datetime | None = None):
    """Record the rating and its history row; the caller commits."""
    try:
        score = int(value)
    except (TypeError, ValueError):
        raise BadParameter("satisfaction must be an integer 1–5", "satisfaction", "not an integer") from None
    if isinstance(value, float) and not value.is_integer() or not 1 <= score <= 5:
        raise BadParameter("satisfaction must be an integer 1–5", "satisfaction", "out of range")
    if actor.role != "admin" and (actor.account_id is None or actor.account_id != case.reporter_account_id):
        raise RoleNotAllowed("only the reporter of a case rates it", "reporter", "not the case's reporter")
    if case.status != "closed" or case.close_type == "error":
        raise NotReady(f"case {case.id} is {case.status}; only a closed case can be rated", "status", case.status)
    if case.satisfaction is not None:
        raise NotReady(f"case {case.id} was already rated {case.satisfaction}", "satisfaction", "already rated")
    at = at or datetime.now(UTC)
    case.satisfaction, case.satisfaction_at, case.satisfaction_note = score, at, (note or None)
    event = CaseEvent(case_id=case.id, action="rate", from_status=case.status, to_status=case.status,
                      actor_account_id=actor.account_id, actor_role=actor.role, at=at, note=note,
                      data={"satisfaction": score})  # fmt: skip
    session.add(event)
    session.flush()
    return event
