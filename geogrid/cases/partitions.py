"""Monthly partitions of ``case_report`` (range on ``created_at``, UTC months): list, create ahead, rescue strays.

A province files ≈365 M cases a year; one table per month keeps each month's indexes small, lets a dated query skip
whole months (partition pruning) and lets an old month be detached or archived in one statement. Partitions are
created ahead by ``geogrid cases maintain`` (cron); a row whose month has no partition yet lands in
``case_report_default`` and is moved into its month's partition the next time that month is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

PARENT = "case_report"
DEFAULT = "case_report_default"
LOCK_KEY = 950_001  # pg_advisory_xact_lock key: one maintainer at a time
MOVE_FLAG = "geogrid.case_move"  # set while rows move between partitions: the delete-cascade trigger stands aside


def month_of(moment: datetime | date) -> date:
    """The first day of the (UTC) month holding ``moment``."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC) if moment.tzinfo else moment
        moment = moment.date()
    return date(moment.year, moment.month, 1)


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month`` (negative n goes back)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """``case_report_yYYYYmMM``: sortable, and parsed back by ``existing_months``."""
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def _bound(month: date) -> str:
    """A partition bound: midnight UTC on the month's first day."""
    return f"{month.isoformat()} 00:00:00+00"


def existing_months(conn: Connection) -> set[date]:
    """Months that have a partition (read from the catalogue, not guessed from names)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass) AND c.relname <> :default"
        ),
        {"parent": PARENT, "default": DEFAULT},
    ).scalars()
    months = set()
    for name in rows:
        tail = name.removeprefix(f"{PARENT}_y")
        if len(tail) == 7 and tail[4] == "m" and tail[:4].isdigit() and tail[5:].isdigit():
            months.add(date(int(tail[:4]), int(tail[5:]), 1))
    return months


def _strays(conn: Connection, month: date) -> int:
    return conn.execute(
        text(f"SELECT count(*) FROM {DEFAULT} WHERE created_at >= :lo AND created_at < :hi"),
        {"lo": _bound(month), "hi": _bound(add_months(month, 1))},
    ).scalar_one()


def create_month(conn: Connection, month: date) -> int:
    """Create ``month``'s partition; rows of that month waiting in the default partition move into it.

    Returns how many rows moved. PostgreSQL refuses a new partition whose range holds rows in the default partition,
    so those rows are taken out first, put in a stand-alone table, which is then attached (indexes are built by the
    attach, as for every partition).
    """
    name, lo, hi = partition_name(month), _bound(month), _bound(add_months(month, 1))
    strays = _strays(conn, month)
    if not strays:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
        return 0
    conn.execute(text(f"SELECT set_config('{MOVE_FLAG}', 'on', true)"))
    conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE created_at >= :lo AND created_at < :hi RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        ),
        {"lo": lo, "hi": hi},
    )
    conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
    conn.execute(text(f"SELECT set_config('{MOVE_FLAG}', 'off', true)"))
    return strays


@dataclass
class MaintainReport:
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    moved_from_default: dict[str, int] = field(default_factory=dict)
    left_in_default: int = 0

    def as_dict(self) -> dict:
        """What cron mails: created, already present, moved from the default partition, still there."""
        return {
            "created": self.created,
            "already_present": self.present,
            "moved_from_default": self.moved_from_default,
            "left_in_default": self.left_in_default,
        }


def maintain(conn: Connection, *, ahead: int = 3, now: datetime | None = None) -> MaintainReport:
    """Make sure this month and the next ``ahead`` months have partitions; safe to run again and concurrently.

    Months that already hold rows in the default partition (e.g. imported history) are created too, so the
    default partition ends empty unless a row's month lies outside every range asked for.
    """
    if ahead < 0:
        raise ValueError("ahead must be >= 0")
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": PARENT}).scalar()
    if kind != "p":
        raise ValueError(f"{PARENT} is not partitioned in this store: run `geogrid db init` (migration 0950) first")
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    first = month_of(now or datetime.now(UTC))
    wanted = {add_months(first, i) for i in range(ahead + 1)}
    stray_months = conn.execute(
        text(f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date FROM {DEFAULT}")
    ).scalars()
    wanted |= set(stray_months)
    have = existing_months(conn)
    report = MaintainReport()
    for month in sorted(wanted):
        name = partition_name(month)
        if month in have:
            report.present.append(name)
            continue
        moved = create_month(conn, month)
        report.created.append(name)
        if moved:
            report.moved_from_default[name] = moved
    report.left_in_default = conn.execute(text(f"SELECT count(*) FROM {DEFAULT}")).scalar_one()
    return report
