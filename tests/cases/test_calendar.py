"""Working-time arithmetic over weekends, public holidays and make-up workdays; calendar import from files."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from geogrid.cases.calendar import WorkCalendar, load_calendar
from geogrid.cases.models import CalendarDay
from geogrid.cli import app
from geogrid.store.db import session_scope

TZ = ZoneInfo("Asia/Shanghai")


def local(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def cal(store_url) -> WorkCalendar:
    with session_scope(store_url) as session:
        return load_calendar(session)


def test_default_year_is_seeded(cal):
    assert not cal.is_workday(date(2026, 10, 1)) and not cal.is_workday(date(2026, 2, 16))
    assert cal.is_workday(date(2026, 10, 10))  # a Saturday made a workday (调休)
    assert not cal.is_workday(date(2026, 11, 28)) and cal.is_workday(date(2026, 11, 27))


def test_hours_across_a_weekend(cal):
    # Friday 16:00: 1.5 h left that day (to 17:30), then Monday 08:30 + 2.5 h = 11:00
    assert cal.add(local(2026, 11, 27, 16), 4, "hours") == local(2026, 11, 30, 11)
    # at night the clock starts at the next opening: Saturday night → Monday 08:30 + 3.5 h = 12:00 sharp
    assert cal.add(local(2026, 11, 28, 22), 3.5, "hours") == local(2026, 11, 30, 12)
    # lunch is not working time: Monday 11:00 + 2 h = 11:00–12:00 then 14:00–15:00
    assert cal.add(local(2026, 11, 30, 11), 2, "hours") == local(2026, 11, 30, 15)


def test_days_across_national_day_and_a_makeup_saturday(cal):
    # Wed 30 Sep 15:00 + 1 working day (7 h): 2.5 h on Sep 30, Oct 1–7 off, Oct 8 08:30–12:00 (3.5 h), 14:00 + 1 h
    assert cal.add(local(2026, 9, 30, 15), 1, "days") == local(2026, 10, 8, 15)
    # Fri 9 Oct 15:00 + 1 day: Saturday 10 Oct is a make-up workday, so it lands on Saturday 15:00
    assert cal.add(local(2026, 10, 9, 15), 1, "days") == local(2026, 10, 10, 15)
    # the Spring Festival (Feb 15–23) and the make-up Saturdays around it
    assert cal.add(local(2026, 2, 13, 17), 2, "days") == local(2026, 2, 24, 17)
    # calendar (non-working) limits ignore all of it
    start = local(2026, 9, 30, 15)
    assert cal.add(start, 2, "days", working=False) == start + timedelta(days=2)


def test_working_time_inverts_add(cal):
    start = local(2026, 9, 29, 10, 17)
    for hours in (0.25, 1, 3.5, 7, 11, 40, 77.5):
        due = cal.add(start, hours, "hours")
        assert abs(cal.working_time(start, due).total_seconds() - hours * 3600) < 1e-6
        assert due > start


def test_bad_limits_raise():
    cal = WorkCalendar()
    with pytest.raises(ValueError, match="unit"):
        cal.add(local(2026, 1, 5, 9), 1, "weeks")
    with pytest.raises(ValueError, match="negative"):
        cal.add(local(2026, 1, 5, 9), -1, "hours")
    with pytest.raises(ValueError, match="no working time"):
        WorkCalendar(periods=()).add(local(2026, 1, 5, 9), 1, "hours")


def test_import_yaml_and_csv_through_the_cli(store_url, tmp_path):
    yml = tmp_path / "cal2027.yaml"
    yml.write_text(
        "holidays:\n  - {from: 2027-01-01, to: 2027-01-03, name: 元旦}\n  - 2027-04-05\nworkdays:\n"
        "  - {date: 2027-01-09, name: 调休上班}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(app, ["calendar", "import", str(yml)])
    assert res.exit_code == 0, res.output
    csv = tmp_path / "extra.csv"
    csv.write_text("date,workday,name\n2027-01-09,false,取消调休\n2027-05-06,holiday,\n", encoding="utf-8")
    assert runner.invoke(app, ["calendar", "import", str(csv)]).exit_code == 0
    with session_scope(store_url) as session:
        rows = {
            d.day: d.workday for d in session.scalars(select(CalendarDay).where(CalendarDay.day >= date(2027, 1, 1)))
        }
        cal = load_calendar(session)
    assert rows == {
        date(2027, 1, 1): False,
        date(2027, 1, 2): False,
        date(2027, 1, 3): False,
        date(2027, 4, 5): False,
        date(2027, 1, 9): False,  # the CSV overrode the YAML's make-up day
        date(2027, 5, 6): False,
    }
    # Thursday 31 Dec 2026 17:00 + 1 h: Jan 1–3 off, Monday Jan 4 opens at 08:30, 30 min left
    assert cal.add(local(2026, 12, 31, 17), 1, "hours") == local(2027, 1, 4, 9)

    bad = tmp_path / "bad.csv"
    bad.write_text("date,workday\n2027-02-30,false\n", encoding="utf-8")
    res = runner.invoke(app, ["calendar", "import", str(bad)])
    assert res.exit_code != 0 and "bad.csv line 2" in res.output
    res = runner.invoke(app, ["calendar", "import", str(tmp_path / "missing.yaml")])
    assert res.exit_code != 0 and "missing.yaml" in res.output
