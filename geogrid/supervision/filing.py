"""Filing upward (备案/报备), seeds/004: what a street centre closes is filed with the district centre; what a grid
member handles on the spot is reported to the street centre. Filings are listed for the receiving centre and
acknowledged there; they never block the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geogrid.cases.models import Case, CaseEvent
from geogrid.supervision.models import CaseFiling


def _filing_route(case: Case, event: CaseEvent) -> tuple[str, int | None, int | None] | None:
    """(kind, from area, to area) for an event that must be filed, else None."""
    if event.action == "close_on_spot":
        return "on_spot", case.community_id, case.street_id
    if event.action == "close" and case.centre_level == "street":
        return "closure", case.street_id, case.district_id
    return None


def file_after(session: Session, case: Case, event: CaseEvent) -> None:
    route = _filing_route(case, event)
    if route is None:
        return
    kind, source, target = route
    summary = {
        "category": case.category,
        "grid_code": case.grid_code,
        "close_type": case.close_type,
        "on_spot": case.on_spot,
        "overdue": case.overdue,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "event_id": event.id,
    }
    session.execute(
        insert(CaseFiling)
        .values(case_id=case.id, kind=kind, from_area_id=source, to_area_id=target, filed_at=event.at, summary=summary)
        .on_conflict_do_nothing(constraint="case_filing_once")
    )


def acknowledge(session: Session, filing: CaseFiling, account_id: int | None, at: datetime) -> CaseFiling:
    """Mark a filing seen by the receiving centre (idempotent: the first acknowledgement is kept)."""
    if filing.acknowledged_at is None:
        filing.acknowledged_at, filing.acknowledged_by = at, account_id
    return filing


def filings_query(area_ids: list[int] | None, kind: str | None = None, pending: bool | None = None):
    """Filings addressed to any of ``area_ids`` (None: all), newest first."""
    stmt = select(CaseFiling).order_by(CaseFiling.filed_at.desc(), CaseFiling.id.desc())
    if area_ids is not None:
        stmt = stmt.where(CaseFiling.to_area_id.in_(area_ids))
    if kind is not None:
        stmt = stmt.where(CaseFiling.kind == kind)
    if pending is not None:
        stmt = stmt.where(CaseFiling.acknowledged_at.is_(None) if pending else CaseFiling.acknowledged_at.is_not(None))
    return stmt
