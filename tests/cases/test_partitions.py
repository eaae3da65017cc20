"""case_report partitioned by month: the migration moves rows, ``cases maintain`` creates months ahead and rescues
strays from the default partition, references by id hold through triggers, a dated stats query prunes months."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from geogrid.cases.intake import ReportInput, submit_report
from geogrid.cases.partitions import DEFAULT, existing_months, maintain, partition_name
from geogrid.cases.stats import _sql
from geogrid.cases.workflow import Actor
from geogrid.store.db import alembic_config, drop_database, get_engine, init_store, session_scope
from tests.conftest import _url_for

COL = Actor(None, "collector")


def _report(city, side: str = "west", text_: str = "垃圾") -> ReportInput:
    lon, lat = getattr(city, side)
    return ReportInput(lon=lon, lat=lat, category="event:0102", description=text_, crs="cgcs2000")


def _where(session, case_id: int) -> str:
    return session.execute(
        text("SELECT tableoid::regclass::text FROM case_report WHERE id = :i"), {"i": case_id}
    ).scalar()


def test_maintain_creates_months_ahead_once(store_url):
    with session_scope(store_url) as session:
        first = maintain(session.connection(), ahead=2, now=datetime(2031, 11, 20, tzinfo=UTC))
    assert first.created == [partition_name(datetime(2031, m, 1).date()) for m in (11, 12)] + ["case_report_y2032m01"]
    with session_scope(store_url) as session:
        again = maintain(session.connection(), ahead=2, now=datetime(2031, 11, 20, tzinfo=UTC))
        months = existing_months(session.connection())
    assert again.created == [] and again.present == first.created
    assert {m.isoformat() for m in months} >= {"2031-11-01", "2031-12-01", "2032-01-01"}


def test_cli_maintain_reports_what_it_did(store_url):
    from geogrid.cli import app

    result = CliRunner().invoke(app, ["cases", "maintain", "--ahead", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["left_in_default"] == 0
    assert len(report["created"]) + len(report["already_present"]) == 2  # this month and the next
    bad = CliRunner().invoke(app, ["cases", "maintain", "--ahead", "-1"])
    assert bad.exit_code != 0


def test_stray_rows_move_from_default_into_their_month(city):
    when = datetime(2033, 5, 14, 3, 0, tzinfo=UTC)  # no partition for May 2033: the row lands in the default one
    with session_scope(city.url) as session:
        case = submit_report(session, _report(city), COL, now=when).case
        case_id = case.id
    with session_scope(city.url) as session:
        assert _where(session, case_id) == DEFAULT
        report = maintain(session.connection(), ahead=0, now=when)
    assert report.moved_from_default == {"case_report_y2033m05": 1} and report.left_in_default == 0
    with session_scope(city.url) as session:
        assert _where(session, case_id) == "case_report_y2033m05"
        events = session.execute(text("SELECT count(*) FROM case_event WHERE case_id = :i"), {"i": case_id}).scalar()
    assert events == 1  # moving the row is not deleting it: its history stays


def test_every_partition_has_the_indexes(city):
    with session_scope(city.url) as session:
        maintain(session.connection(), ahead=1, now=datetime(2034, 1, 1, tzinfo=UTC))
        rows = session.execute(
            text(
                "SELECT c.relname, count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_index x ON x.indrelid = c.oid WHERE i.inhparent = 'case_report'::regclass GROUP BY 1"
            )
        ).all()
        parent = session.execute(
            text("SELECT count(*) FROM pg_index WHERE indrelid = 'case_report'::regclass")
        ).scalar()
    counts = dict(rows)
    assert parent >= 10 and "case_report_y2034m02" in counts and DEFAULT in counts
    assert set(counts.values()) == {parent}


def test_dated_stats_query_prunes_other_months(city):
    with session_scope(city.url) as session:
        maintain(session.connection(), ahead=6, now=datetime(2035, 1, 1, tzinfo=UTC))
        params = {
            "s": datetime(2035, 2, 1, tzinfo=UTC),
            "e": datetime(2035, 3, 1, tzinfo=UTC),
            "tz": "UTC",
            "s_local": datetime(2035, 2, 1),
            "e_local": datetime(2035, 3, 1),
        }
        plan = "\n".join(session.execute(text("EXPLAIN " + _sql("month", "none")), params).scalars())
    assert "case_report_y2035m01" in plan and "case_report_y2035m02" in plan
    for later in ("case_report_y2035m03", "case_report_y2035m04", "case_report_y2035m07"):
        assert later not in plan  # cases created after the window cannot count in it


def test_references_by_id_are_enforced(city):
    with session_scope(city.url) as session:
        first = submit_report(session, _report(city), COL).case.id
        second = submit_report(session, _report(city, text_="又一处垃圾"), COL).case
        assert second.duplicate_of_id == first
        second_id = second.id
    with pytest.raises(IntegrityError, match="case 99999999 does not exist"), session_scope(city.url) as session:
        session.execute(
            text("INSERT INTO case_event (case_id, action, to_status, actor_role) VALUES (99999999, 'x', 'x', 'x')")
        )
    with session_scope(city.url) as session:
        session.execute(text("DELETE FROM case_report WHERE id = :i"), {"i": first})
    with session_scope(city.url) as session:
        left = session.execute(text("SELECT count(*) FROM case_event WHERE case_id = :i"), {"i": first}).scalar()
        dup = session.execute(text("SELECT duplicate_of_id FROM case_report WHERE id = :i"), {"i": second_id}).scalar()
    assert left == 0 and dup is None  # ON DELETE CASCADE and SET NULL, as the foreign keys did


def test_idempotency_key_still_yields_one_case(city):
    from geogrid.store.accounts import create_account

    with session_scope(city.url) as session:
        account, _ = create_account(session, "t-idem", "collector")
        actor = Actor(account.id, "collector")
        a = submit_report(session, _report(city), actor, idempotency_key="k-1").case.id
    with session_scope(city.url) as session:
        # a retry in another month still finds the first case: the key is unique across partitions
        b = submit_report(session, _report(city), actor, idempotency_key="k-1", now=datetime(2036, 1, 5, tzinfo=UTC))
        assert b.case.id == a and b.created is False
        assert session.execute(text("SELECT count(*) FROM case_report")).scalar() == 1


def test_migration_moves_existing_rows():
    from alembic import command

    url = _url_for(f"geogrid_test_mig_{uuid.uuid4().hex[:8]}")
    try:
        init_store(url)  # at heads; step back to before 0950, add rows, upgrade again
        cfg = alembic_config(url)
        command.downgrade(cfg, "0950-1")
        with get_engine(url).begin() as conn:
            assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'case_report'")).scalar() == "r"
            for i, when in enumerate(("2024-03-05", "2024-03-20", "2025-07-01"), start=1):
                conn.execute(
                    text(
                        "INSERT INTO case_report (id, category, channel, description, lon, lat, geom, crs_in, "
                        "created_at, idempotency_key) VALUES (:i, 'event:0102', 'public', 'x', 114.3, 30.6, "
                        "ST_SetSRID(ST_MakePoint(114.3, 30.6), 4490), 'wgs84', :t, :k)"
                    ),
                    {"i": i, "t": f"{when} 08:00+08", "k": f"key-{i}"},
                )
                conn.execute(
                    text("INSERT INTO case_event (case_id, action, to_status, actor_role) VALUES (:i, 'r', 'r', 'r')"),
                    {"i": i},
                )
        get_engine(url).dispose()
        command.upgrade(cfg, "heads")
        with get_engine(url).begin() as conn:
            assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'case_report'")).scalar() == "p"
            where = dict(conn.execute(text("SELECT id, tableoid::regclass::text FROM case_report")).all())
            claims = conn.execute(text("SELECT count(*) FROM case_idempotency")).scalar()
            fks = conn.execute(
                text("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'case_report'::regclass")
            ).scalar()
        assert where == {1: "case_report_y2024m03", 2: "case_report_y2024m03", 3: "case_report_y2025m07"}
        assert claims == 3 and fks == 0
    finally:
        get_engine.cache_clear()
        drop_database(url)
