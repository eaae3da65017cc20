"""``GET /v1/stats/bulletin?month=YYYY-MM``: the monthly bulletin with its ranking (红黑榜), as JSON or as a
printable HTML page (``format=html``, or ``Accept: text/html``); ``GET /v1/stats/people``: figures per person.

Definitions: ``geogrid.assessment.bulletin`` and ``figures`` (module docstrings). A district or street centre's
operator gets its own area's bulletin.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.auth import Caller, require_roles
from api.db import get_session
from api.routers.locate import _json
from api.routers.reports import invalid
from api.scoping import scope_of
from geogrid.assessment.bulletin import bulletin
from geogrid.assessment.figures import per_person
from geogrid.assessment.html import render
from geogrid.cases.settings import CaseSettings
from geogrid.patrols.settings import PatrolSettings

router = APIRouter(prefix="/v1/stats", tags=["stats"])
READERS = Depends(require_roles("operator", "unit", "planner"))


def _area(session: Session, caller: Caller) -> tuple[str, int] | None:
    scope = scope_of(session, caller)
    return None if scope is None else (scope.level, scope.area_id)


@router.get("/bulletin", summary="Monthly bulletin with the red and black lists (JSON, or HTML to print)")
def get_bulletin(
    request: Request,
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (default: last month)"),
    format: str | None = Query(None, pattern="^(json|html)$"),
    layer: str = Query("responsibility", description="grid layer for patrol compliance"),
    caller: Caller = READERS,
    session: Session = Depends(get_session),
) -> Response:
    tz = CaseSettings.from_env().timezone
    if month is None:
        month = (datetime.now(ZoneInfo(tz)).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    if not 1 <= int(month[5:]) <= 12:
        raise invalid("month", "YYYY-MM with a month 01–12")
    data = bulletin(session, month, tz, area=_area(session, caller), patrol_min=PatrolSettings.from_env().weekly_min,
                    layer=layer)  # fmt: skip
    wants_html = format == "html" or (format is None and "text/html" in request.headers.get("accept", ""))
    return HTMLResponse(render(data)) if wants_html else _json(data)


@router.get("/people", summary="Per person: reports, on-the-spot handlings, patrols, grids patrolled")
def get_people(
    from_: date = Query(..., alias="from", description="first local day"),
    to: date = Query(..., description="last local day, inclusive"),
    caller: Caller = READERS,
    session: Session = Depends(get_session),
) -> Response:
    if to < from_:
        raise invalid("to", f"{to} is before from {from_}")
    zone = ZoneInfo(CaseSettings.from_env().timezone)
    start = datetime.combine(from_, time(0), zone)
    end = datetime.combine(to + timedelta(days=1), time(0), zone)
    return _json(
        {
            "from": from_.isoformat(),
            "to": to.isoformat(),
            "people": per_person(session, start, end, _area(session, caller)),
        }
    )
