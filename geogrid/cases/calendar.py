"""Working time: weekends and public holidays as data, time limits counted in working hours or days.

The week is Monday–Friday unless the ``work_calendar_day`` table says otherwise (holidays off, 调休 make-up days on).
A working day has fixed periods (default 08:30–12:00 and 14:00–17:30, local time). "N working days" means
N × the length of a working day in working time, so a case dispatched on Friday 10:00 with one working day is due
on Monday 10:00, and one dispatched at night starts counting at the next opening.

Only years listed in ``work_calendar_year`` (seeded from the ``chinesecalendar`` package, or imported) are known:
counting working time through any other year raises ``CalendarMissing`` naming the year, because guessing a plain
Monday–Friday week there would put Spring Festival deadlines on holidays. This year and the next are always known:
before their notice is seeded or imported they hold the statutory holidays by rule, marked provisional
(``calendar_provisional``), and importing the notice replaces them and recomputes open cases' deadlines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geogrid.cases.models import CalendarDay, CalendarYear
from geogrid.cases.settings import CaseSettings

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
MAX_DAYS = 3660  # a limit no real time limit reaches; guards against a calendar with no working day at all


class CalendarMissing(ValueError):
    """Working time was asked for in a year the calendar has no data for."""

    def __init__(self, year: int, known: frozenset[int]) -> None:
        span = f"{min(known)}–{max(known)}" if known else "none"
        self.year, self.reason = year, f"no working-calendar data for {year}"
        super().__init__(
            f"{self.reason} (years known: {span}); import the year's holiday notice with "
            "`geogrid calendar import FILE` or upgrade chinesecalendar and run `geogrid calendar seed`"
        )


@dataclass(frozen=True)
class WorkCalendar:
    """Exceptions to the Monday–Friday week plus the daily working periods, in one time zone.

    ``years``: the years with calendar data; None accepts every year (a calendar built by hand, e.g. in tests).
    """

    exceptions: dict[date, bool] = field(default_factory=dict)
    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    tz: str = "Asia/Shanghai"
    years: frozenset[int] | None = None

    @property
    def day_length(self) -> timedelta:
        base = date(2000, 1, 1)
        return sum(
            (datetime.combine(base, end) - datetime.combine(base, start) for start, end in self.periods), timedelta()
        )

    def is_workday(self, day: date) -> bool:
        if self.years is not None and day.year not in self.years:
            raise CalendarMissing(day.year, self.years)
        return self.exceptions.get(day, day.weekday() < 5)

    def _windows(self, first: date, last: date | None = None) -> Iterable[tuple[datetime, datetime]]:
        zone = ZoneInfo(self.tz)
        for offset in range(MAX_DAYS):
            day = first + timedelta(days=offset)
            if last is not None and day > last:
                return
            if self.is_workday(day):
                for start, end in self.periods:
                    yield datetime.combine(day, start, zone), datetime.combine(day, end, zone)
        raise ValueError(f"no working time within {MAX_DAYS} days of {first}; check the working calendar")

    def add(self, start: datetime, value: float, unit: str, working: bool = True) -> datetime:
        """The deadline ``value`` hours or days after ``start``; calendar time when ``working`` is false."""
        if unit not in ("hours", "days"):
            raise ValueError(f"time limit unit {unit!r} is not 'hours' or 'days'")
        if value < 0:
            raise ValueError(f"time limit {value} is negative")
        if not working:
            return start + (timedelta(hours=value) if unit == "hours" else timedelta(days=value))
        remaining = timedelta(hours=value) if unit == "hours" else self.day_length * value
        local = start.astimezone(ZoneInfo(self.tz))
        if remaining <= timedelta(0):
            return start
        for win_start, win_end in self._windows(local.date()):
            begin = max(local, win_start)
            if begin >= win_end:
                continue
            available = win_end - begin
            if available >= remaining:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise AssertionError("unreachable")  # _windows raises first

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed between two instants (zero when end precedes start)."""
        if end <= start:
            return timedelta(0)
        zone = ZoneInfo(self.tz)
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        total = timedelta(0)
        for win_start, win_end in self._windows(local_start.date(), local_end.date()):
            if win_start >= local_end:
                break
            overlap = min(win_end, local_end) - max(win_start, local_start)
            if overlap > timedelta(0):
                total += overlap
        return total


def load_calendar(session: Session, settings: CaseSettings | None = None) -> WorkCalendar:
    """The calendar stored in the database (a few dozen rows per year, read whole)."""
    from geogrid.cases.calendar_provisional import add_provisional, missing_years

    settings = settings or CaseSettings.from_env()
    years = frozenset(session.scalars(select(CalendarYear.year)))
    years |= add_provisional(session, missing_years(years, settings.timezone))  # year end: see the module docstring
    rows = session.execute(select(CalendarDay.day, CalendarDay.workday)).all()
    return WorkCalendar(exceptions={day: workday for day, workday in rows}, tz=settings.timezone, years=years)


def _parse_day(value, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_bool(value, where: str) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "workday", "work", "上班"):
        return True
    if text in ("false", "0", "no", "holiday", "off", "休", "放假"):
        return False
    raise ValueError(f"{where}: workday {value!r} is not true/false (or workday/holiday)")


def _yaml_entries(entries, workday: bool, where: str) -> list[tuple[date, bool, str | None]]:
    out: list[tuple[date, bool, str | None]] = []
    for i, entry in enumerate(entries or []):
        here = f"{where}[{i}]"
        if isinstance(entry, dict):
            name = entry.get("name")
            if "from" in entry or "to" in entry:
                first, last = _parse_day(entry.get("from"), here + ".from"), _parse_day(entry.get("to"), here + ".to")
                if last < first:
                    raise ValueError(f"{here}: 'to' {last} is before 'from' {first}")
                out += [(first + timedelta(days=k), workday, name) for k in range((last - first).days + 1)]
            else:
                out.append((_parse_day(entry.get("date"), here + ".date"), workday, name))
        else:
            out.append((_parse_day(entry, here), workday, None))
    return out


def read_calendar_file(path: str | Path) -> list[tuple[date, bool, str | None]]:
    """Read a YAML (``holidays:``/``workdays:`` lists of dates or ``{from, to, name}``) or a CSV (date,workday,name).

    Every error names the file and the row or entry.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        rows: list[tuple[date, bool, str | None]] = []
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"date", "workday"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))} (need date,workday[,name])")
            for n, row in enumerate(reader, start=2):
                where = f"{path} line {n}"
                day, workday = _parse_day(row["date"], where), _parse_bool(row["workday"], where)
                rows.append((day, workday, row.get("name") or None))
        return rows
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(doc, dict) or not ({"holidays", "workdays"} & set(doc)):
            raise ValueError(f"{path}: expected a mapping with 'holidays' and/or 'workdays' lists")
        return _yaml_entries(doc.get("holidays"), False, f"{path} holidays") + _yaml_entries(
            doc.get("workdays"), True, f"{path} workdays"
        )
    raise ValueError(f"{path}: unsupported calendar format {path.suffix!r} (use .yaml, .yml or .csv)")


def import_days(
    session: Session, days: Iterable[tuple[date, bool, str | None]], source: str = "import", replace: bool = True
) -> int:
    """Upsert calendar exceptions and mark their years known; a later entry for the same day wins.

    ``replace`` false keeps days already stored (a package seed never overrides an imported notice).
    Returns the number of days written. ``import_notice`` is the entry point that also replaces provisional years.
    """
    merged = {day: (workday, name) for day, workday, name in days}
    if not merged:
        return 0
    rows = [{"day": d, "workday": w, "name": n} for d, (w, n) in sorted(merged.items())]
    stmt = insert(CalendarDay).values(rows)
    if replace:
        stmt = stmt.on_conflict_do_update(
            index_elements=[CalendarDay.day], set_={"workday": stmt.excluded.workday, "name": stmt.excluded.name}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=[CalendarDay.day])
    session.execute(stmt)
    years = [{"year": y, "source": source} for y in sorted({d.year for d in merged})]
    mark = insert(CalendarYear).values(years)
    if replace:
        mark = mark.on_conflict_do_update(
            index_elements=[CalendarYear.year], set_={"source": mark.excluded.source, "updated_at": func.now()}
        )
    session.execute(mark.on_conflict_do_nothing(index_elements=[CalendarYear.year]) if not replace else mark)
    return len(rows)


def import_notice(
    session: Session, days: list[tuple[date, bool, str | None]], source: str, replace: bool = True
) -> dict:
    """Import a year's notice (or the package's years): provisional years among them are replaced whole and the
    deadlines of open cases in them recomputed on the official calendar."""
    from geogrid.cases.calendar_provisional import clear_years, provisional_years, recompute_open_deadlines

    replaced = provisional_years(session, {d.year for d, _, _ in days})
    old = load_calendar(session) if replaced else None
    clear_years(session, replaced)
    written = import_days(session, days, source, replace)
    session.flush()
    cases = recompute_open_deadlines(session, old, load_calendar(session), replaced) if replaced else 0
    return {"days": written, "provisional_years_replaced": sorted(replaced), "deadlines_recomputed": cases}


def seed_from_package(session: Session) -> dict:
    """Add the years the installed ``chinesecalendar`` knows and the store does not (imports are kept).

    A year stored as provisional counts as not known: the package's days replace it.
    """
    from geogrid.cases.calendar_provisional import provisional_years
    from geogrid.cases.calendar_seed import package_days, package_name

    package = package_days()
    known = set(session.scalars(select(CalendarYear.year)))
    known -= provisional_years(session, {d.year for d, _, _ in package})
    new = [(d, w, n) for d, w, n in package if d.year not in known]
    result = import_notice(session, new, package_name(), replace=False) if new else {"days": 0}
    return {"source": package_name(), "years_added": sorted({d.year for d, _, _ in new}), **result}
