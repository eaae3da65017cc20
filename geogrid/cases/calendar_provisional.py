"""Provisional calendar years: added before the holiday notice exists, replaced (deadlines recomputed) when it arrives.

The State Council publishes next year's holiday notice in late autumn and the ``chinesecalendar`` package follows
weeks later, but cases dispatched in late December already have deadlines in January. Refusing to count would stop
dispatch at every year end, so this year and the next always exist in the store: from the package or an import when
known, otherwise by rule (``calendar_seed.provisional_days``), marked provisional in ``work_calendar_year.source``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from geogrid.cases.calendar_seed import PROVISIONAL, provisional_days, provisional_source
from geogrid.cases.models import TERMINAL, CalendarDay, CalendarYear, Case

AHEAD = 1  # years after the current one that must be countable (a 5-working-day limit never reaches further)
DEADLINES = ("due_at", "warn_at", "escalate_at")


def missing_years(known: frozenset[int], tz: str) -> set[int]:
    """This year and the next ``AHEAD`` years, in the calendar's time zone, that have no data."""
    this_year = datetime.now(ZoneInfo(tz)).year
    return {year for year in range(this_year, this_year + AHEAD + 1) if year not in known}


def add_provisional(session: Session, years: set[int]) -> set[int]:
    """Store rule-based holidays for ``years`` (never over data already there); returns the years added.

    Runs in a savepoint: on a read-only connection (a replica) it changes nothing and the caller counts as before.
    """
    if not years:
        return set()
    days = provisional_days(years)
    try:
        with session.begin_nested():
            rows = [{"day": d, "workday": w, "name": n} for d, w, n in days]
            if rows:
                session.execute(insert(CalendarDay).values(rows).on_conflict_do_nothing(index_elements=["day"]))
            marks = [{"year": y, "source": provisional_source()} for y in sorted(years)]
            added = session.scalars(
                insert(CalendarYear)
                .values(marks)
                .on_conflict_do_nothing(index_elements=["year"])
                .returning(CalendarYear.year)
            )
            return set(added)
    except SQLAlchemyError:
        return set()


def provisional_years(session: Session, years: set[int]) -> set[int]:
    """Which of ``years`` are stored as provisional."""
    stored = session.execute(select(CalendarYear.year, CalendarYear.source).where(CalendarYear.year.in_(years)))
    return {year for year, source in stored if source.startswith(PROVISIONAL)}


def clear_years(session: Session, years: set[int]) -> None:
    """Delete the stored days and the year marks of ``years`` (before official data replaces them)."""
    for year in years:
        first, last = datetime(year, 1, 1).date(), datetime(year, 12, 31).date()
        session.execute(delete(CalendarDay).where(CalendarDay.day.between(first, last)))
    session.execute(delete(CalendarYear).where(CalendarYear.year.in_(years)))


def recompute_open_deadlines(session: Session, old, new, years: set[int]) -> int:
    """Move the deadlines of open cases that fall in ``years`` from the ``old`` calendar to the ``new`` one.

    Each deadline keeps the working time it was given: the working time from dispatch to the old instant (extensions
    included) is counted again from dispatch on the new calendar. Returns the number of cases changed.
    """
    if not years:
        return 0
    zone = ZoneInfo(new.tz)
    start = datetime(min(years), 1, 1, tzinfo=zone)
    cases = session.scalars(
        select(Case).where(Case.status.not_in(TERMINAL), Case.dispatched_at.is_not(None), Case.due_at >= start)
    )
    changed = 0
    for case in cases:
        before = tuple(getattr(case, name) for name in DEADLINES)
        for name in DEADLINES:
            instant = getattr(case, name)
            if instant is None or instant < start or not case.time_limit_working:
                continue
            given = old.working_time(case.dispatched_at, instant)
            hours = given / timedelta(hours=1)
            setattr(case, name, new.add(case.dispatched_at, hours, "hours"))
        changed += before != tuple(getattr(case, name) for name in DEADLINES)
    return changed
