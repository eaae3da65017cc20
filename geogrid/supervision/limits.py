"""The time-limit cap: no case beyond 5 working days (seeds/001: 最迟不超过5个工作日完成), unless a time-limit rule
says ``exempt_from_cap`` and gives a reason (e.g. illegal structures, 15–20 working days by statute).

Sizes compare in working days: a working-time limit in hours counts ``hours / working-day length`` (7 h with the
default periods); a calendar-time limit counts its calendar days (which is never more working time than the cap
allows when within it). Extensions count toward the cap: an extension that would put the deadline more than 5 working
days after the dispatch is refused for a capped case.
"""

from __future__ import annotations

from datetime import datetime

from geogrid.cases.calendar import DEFAULT_PERIODS, WorkCalendar
from geogrid.cases.models import Case

CAP_WORKING_DAYS = 5.0
DAY_HOURS = WorkCalendar(periods=DEFAULT_PERIODS).day_length.total_seconds() / 3600.0


def in_days(value: float, unit: str, working: bool) -> float:
    """A limit's size in (working) days."""
    if unit == "days":
        return value
    return value / (DAY_HOURS if working else 24.0)


def cap_problem(value: float, unit: str, working: bool, exempt: bool, reason: str | None) -> str | None:
    """Why a time limit is not acceptable, or None."""
    if exempt:
        return None if (reason or "").strip() else "exempt_from_cap needs an exempt_reason"
    if in_days(value, unit, working) > CAP_WORKING_DAYS:
        return (
            f"{value:g} {unit} is over the cap of {CAP_WORKING_DAYS:g} working days "
            "(seeds/001: 最迟不超过5个工作日); set exempt_from_cap with an exempt_reason for a statutory longer limit"
        )
    return None


def cap_time_limit(limit: dict) -> dict:
    """A routed time limit, clamped to the cap unless exempt (rows stored before the cap existed)."""
    if not limit or limit.get("exempt_from_cap"):
        return limit
    value, unit, working = float(limit["value"]), limit.get("unit", "days"), bool(limit.get("working", True))
    if in_days(value, unit, working) <= CAP_WORKING_DAYS:
        return limit
    return {**limit, "value": CAP_WORKING_DAYS, "unit": "days", "working": True,
            "capped_from": {"value": value, "unit": unit, "working": working}}  # fmt: skip


def is_exempt(case: Case) -> bool:
    return bool(((case.route or {}).get("time_limit") or {}).get("exempt_from_cap"))


def check_extension(case: Case, calendar: WorkCalendar, new_due: datetime) -> str | None:
    """Why an extension to ``new_due`` would break the cap for this case, or None."""
    if is_exempt(case) or case.dispatched_at is None:
        return None
    if case.time_limit_working:
        used = calendar.working_time(case.dispatched_at, new_due).total_seconds() / 3600.0 / DAY_HOURS
    else:
        used = (new_due - case.dispatched_at).total_seconds() / 86400.0
    if used > CAP_WORKING_DAYS + 1e-9:
        return (
            f"the extended deadline would be {used:.2f} working days after dispatch, over the cap of "
            f"{CAP_WORKING_DAYS:g} (seeds/001: 最迟不超过5个工作日)"
        )
    return None
