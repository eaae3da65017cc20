"""``GET /v1/stats``: case indicators (受理, 立案, 应结案, 结案, 结案率, 按期结案率, 返工率, 延期率, time to close).

Definitions are in ``geogrid.cases.stats`` (module docstring) and repeated in every answer under ``definitions``.
Dates are local (``GEOGRID_CASES_TZ``, default Asia/Shanghai); ``to`` is inclusive.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.auth import Caller, require_roles
from api.replicas import get_read_session
from api.routers.reports import invalid
from api.scoping import scope_of
from geogrid.cases import stats
from geogrid.cases.settings import CaseSettings

router = APIRouter(tags=["stats"])
MAX_DAYS = 3 * 366


@router.get("/v1/stats", summary="Indicators by period and by grid, community, street or unit")
def get_stats(
    from_: date | None = Query(None, alias="from", description="first local day (default: first of this month)"),
    to: date | None = Query(None, description="last local day, inclusive (default: today)"),
    period: str = Query("all", description=f"bucket: one of {', '.join(stats.PERIODS)}"),
    group_by: str = Query("none", description=f"one of {', '.join(stats.GROUPS)}"),
    caller: Caller = Depends(require_roles("operator", "unit", "planner")),
    session: Session = Depends(get_read_session),
) -> dict:
    settings = CaseSettings.from_env()
    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()
    first = from_ or today.replace(day=1)
    last = to or today
    if period not in stats.PERIODS:
        raise invalid("period", f"one of {list(stats.PERIODS)}")
    if group_by not in stats.GROUPS:
        raise invalid("group_by", f"one of {list(stats.GROUPS)}")
    if last < first:
        raise invalid("to", f"{last} is before from {first}")
    if (last - first).days > MAX_DAYS:
        raise invalid("to", f"a window of at most {MAX_DAYS} days")
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    scope = scope_of(session, caller)
    area = None if scope is None else (scope.level, scope.area_id)
    rows = stats.indicators(session, start, end, period=period, group_by=group_by, tz=settings.timezone, area=area)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "timezone": settings.timezone,
        "period": period,
        "group_by": group_by,
        "labels": stats.LABELS,
        "definitions": stats.__doc__,
        "rows": rows,
    }
