"""Which cases a role sees (issue 10): a SQL condition and a predicate, composed by AND with the area scope.

- operators, admins, reporters and the public: every case (the public and reporters through the public view);
- units: the cases dispatched to them, supervised by them or co-handled by them (joint cases);
- collectors: the cases they reported and the cases in the grids they are assigned to;
- planners: none (they plan grids; case contents are not theirs to read).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from geogrid.cases.models import Case
from geogrid.store.models import GridAssignment, Person
from geogrid.supervision.models import CaseUnit

EVERY_CASE = ("operator", "admin", "reporter", "public")


def role_condition(role: str, account_id: int | None, unit_id: int | None) -> ColumnElement[bool]:
    """A WHERE condition on ``case_report`` keeping the cases ``role`` may see."""
    if role in EVERY_CASE:
        return true()
    if role == "unit":
        if unit_id is None:
            return false()
        co_handled = select(CaseUnit.case_id).where(CaseUnit.unit_id == unit_id)
        return or_(
            and_(Case.unit_id == unit_id, Case.dispatched_at.is_not(None)),
            Case.escalated_unit_id == unit_id,
            Case.id.in_(co_handled),
        )
    if role == "collector":
        grids = (
            select(GridAssignment.grid_code)
            .join(Person, Person.id == GridAssignment.person_id)
            .where(Person.account_id == account_id)
        )
        return or_(Case.reporter_account_id == account_id, Case.grid_code.in_(grids))
    return false()


def may_see(session: Session, role: str, account_id: int | None, unit_id: int | None, case: Case) -> bool:
    """Whether ``role`` may see ``case`` (the same rule as ``role_condition``, for one loaded case)."""
    if role in EVERY_CASE:
        return True
    stmt = select(Case.id).where(Case.id == case.id, role_condition(role, account_id, unit_id))
    return session.scalar(stmt) is not None
