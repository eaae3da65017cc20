"""Centres by level (分层分级, seeds/004): an operator account may belong to a district or a street centre.

``AreaScope`` is what such an operator may see and act on; it composes with any other case filter (issue 10's role
filters, list parameters) because it is only a SQL condition (``case_condition``) and a predicate (``may_act``):

- an operator without an area (the city centre) sees and acts on every case;
- a district centre sees the cases of its district and acts on all of them;
- a street centre sees the cases of its street and acts on those still at street level (``centre_level``): once it
  has reported a case up (上报) the district dispatches it, and the street only watches.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from geogrid.cases.models import Case
from geogrid.store.models import AdminArea

AREA_COLUMN = {"district": Case.district_id, "street": Case.street_id, "community": Case.community_id}


@dataclass(frozen=True)
class AreaScope:
    """A centre's territory: its admin area's id and level."""

    area_id: int
    level: str
    name: str | None = None


def scope_for(session: Session, admin_area_id: int | None) -> AreaScope | None:
    """The scope of an account's ``admin_area_id`` (None: the whole city)."""
    if admin_area_id is None:
        return None
    row = session.execute(
        select(AdminArea.id, AdminArea.level, AdminArea.name).where(AdminArea.id == admin_area_id)
    ).first()
    if row is None:  # the area was deleted: the account sees nothing rather than everything
        return AreaScope(-1, "district")
    return AreaScope(row.id, row.level, row.name)


def case_condition(scope: AreaScope | None) -> ColumnElement[bool]:
    """A WHERE condition on ``case_report`` keeping the scope's cases (always true for the city centre)."""
    if scope is None:
        return true()
    return AREA_COLUMN[scope.level] == scope.area_id


def sees(scope: AreaScope | None, case: Case) -> bool:
    if scope is None:
        return True
    return {"district": case.district_id, "street": case.street_id, "community": case.community_id}[
        scope.level
    ] == scope.area_id


def may_act(scope: AreaScope | None, case: Case) -> bool:
    """Inside the territory, and for a street (or community) centre only while the case is at street level."""
    if not sees(scope, case):
        return False
    return scope is None or scope.level == "district" or case.centre_level == "street"


def area_ids_within(session: Session, scope: AreaScope | None) -> list[int] | None:
    """The scope's area and its descendants (None: everything), e.g. for filings addressed inside it."""
    if scope is None:
        return None
    ids, frontier = [scope.area_id], [scope.area_id]
    while frontier:
        frontier = list(session.scalars(select(AdminArea.id).where(AdminArea.parent_id.in_(frontier))))
        ids += frontier
    return ids
