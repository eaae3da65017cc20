"""Year end: a deadline that crosses into a year with no holiday notice yet is counted on a provisional calendar
(statutory holidays by rule), and importing the notice replaces it and moves open deadlines to the official days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from geogrid.cases.calendar import load_calendar
from geogrid.cases.models import CalendarDay, CalendarYear, Case
from geogrid.cli import app
from geogrid.store.db import session_scope
from tests.supervision.helpers import dispatched

TZ = ZoneInfo("Asia/Shanghai")


def forget_year(url: str, year: int) -> None:
    """The store as it is when the package has no release for ``year`` yet."""
    with session_scope(url) as session:
        session.execute(delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
        session.execute(delete(CalendarYear).where(CalendarYear.year == year))


def last_workday_of(year: int, cal) -> date:
    day = date(year, 12, 31)
    while not cal.is_workday(day):
        day -= timedelta(days=1)
    return day


def test_next_year_is_provisional_then_replaced_by_the_notice(client, city, keys, tmp_path):
    year = datetime.now(TZ).year + 1
    forget_year(city.url, year)
    with session_scope(city.url) as session:
        cal = load_calendar(session)
        source = session.scalar(select(CalendarYear.source).where(CalendarYear.year == year))
        names = session.scalars(
            select(CalendarDay.name).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        ).all()
    assert source.startswith("provisional") and year in cal.years
    assert not cal.is_workday(date(year, 1, 1)) and not cal.is_workday(date(year, 10, 1))  # 元旦, 国庆节
    assert len(names) >= 13 and all(name.endswith("（暂定）") for name in names)  # 13 statutory days at least
    assert sum("春节" in name for name in names) >= 4

    # a case dispatched on the last working day of this year, 5 working days: counted through New Year's Day
    cid = dispatched(client, keys, city.west)
    start = datetime.combine(last_workday_of(year - 1, cal), time(9, 0), TZ)
    due = cal.add(start, 5, "days")
    with session_scope(city.url) as session:
        session.execute(update(Case).where(Case.id == cid).values(dispatched_at=start, due_at=due, escalate_at=due))
    assert due.astimezone(TZ).date() > date(year, 1, 1) and cal.working_time(start, due) == 5 * cal.day_length

    # the notice: 1–4 January off (the 4th a bridge day the rule cannot know), nothing else that year
    notice = tmp_path / f"{year}.yaml"
    notice.write_text(f"holidays:\n  - {{from: {year}-01-01, to: {year}-01-04, name: 元旦}}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["calendar", "import", str(notice)])
    assert result.exit_code == 0, result.stdout
    assert f"provisional year(s) {year} replaced; 1 open deadline(s) moved" in result.stdout
    with session_scope(city.url) as session:
        official = load_calendar(session)
        case = session.get(Case, cid)
        left = session.scalars(select(CalendarDay.name).where(CalendarDay.name.like("%（暂定）"))).all()
        source = session.scalar(select(CalendarYear.source).where(CalendarYear.year == year))
    assert source == f"import {year}.yaml" and left == []
    assert not official.is_workday(date(year, 1, 4)) or date(year, 1, 4).weekday() >= 5
    assert case.due_at == official.add(start, 5, "days") and case.due_at >= due
    assert case.escalate_at == case.due_at and official.working_time(start, case.due_at) == 5 * official.day_length
