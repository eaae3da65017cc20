"""Overdue detection and escalation community → street → district, at chosen instants; the CLI pass."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from typer.testing import CliRunner

from geogrid.cases.calendar import load_calendar
from geogrid.cases.escalation import escalate_overdue
from geogrid.cases.intake import ReportInput, submit_report
from geogrid.cases.models import Case, CaseEvent
from geogrid.cases.workflow import Actor, apply
from geogrid.cli import app
from geogrid.store.db import session_scope

TZ = ZoneInfo("Asia/Shanghai")
OP = Actor(None, "operator")


def local(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def dispatched_case(session, city, at: datetime, point=None) -> Case:
    report = ReportInput(
        lon=(point or city.west)[0], lat=(point or city.west)[1], category="event:0102", description="x"
    )
    case = submit_report(session, report, Actor(None, "reporter"), now=at - timedelta(minutes=30)).case
    for i, action in enumerate(("accept", "file", "dispatch")):
        apply(session, case, action, OP, at=at - timedelta(minutes=2 - i))
    return case


def test_ladder_community_street_district(city):
    t0 = local(2026, 11, 23, 9)  # Monday
    with session_scope(city.url) as session:
        cal = load_calendar(session)
        case = dispatched_case(session, city, t0)
        early = dispatched_case(session, city, t0, city.east)
        parked = dispatched_case(session, city, t0, city.east)
        apply(session, parked, "park", OP, at=t0 + timedelta(hours=1))
        apply(session, early, "handle", Actor(None, "unit", city.units["420102001002"]), at=t0 + timedelta(hours=1))
        for action in ("feedback",):
            apply(session, early, action, Actor(None, "unit", city.units["420102001002"]), at=t0 + timedelta(hours=2))
        due = case.due_at
        assert due == cal.add(t0 - timedelta(minutes=0), 4, "hours")  # Mon 09:00 + 4 working hours = 15:00
        assert due.astimezone(TZ) == local(2026, 11, 23, 15)

        assert escalate_overdue(session, now=due - timedelta(minutes=1))["escalated"] == []
        now1 = due + timedelta(minutes=1)
        assert escalate_overdue(session, now=now1)["escalated"] == [case.id]  # early and parked are not held by a unit
        assert case.overdue and case.escalation_level == "street"
        assert case.escalated_unit_id == city.units["420102001"]
        assert case.escalate_at == cal.add(now1, 2, "days")
        assert case.due_at == due  # escalation does not forgive the deadline
        assert escalate_overdue(session, now=now1 + timedelta(minutes=5))["escalated"] == []  # idempotent
        # the supervising street unit may act on the case now; the original unit still may too
        apply(session, case, "handle", Actor(None, "unit", city.units["420102001"]), at=now1 + timedelta(hours=1))

        now2 = case.escalate_at + timedelta(minutes=1)
        assert escalate_overdue(session, now=now2)["escalated"] == [case.id]
        assert case.escalation_level == "district" and case.escalated_unit_id == city.units["420102"]
        now3 = case.escalate_at + timedelta(minutes=1)
        summary = escalate_overdue(session, now=now3)
        assert summary["overdue_at_top"] == [case.id] and case.escalate_at is None
        assert escalate_overdue(session, now=now3 + timedelta(days=30)) == {
            "checked_at": (now3 + timedelta(days=30)).isoformat(),
            "escalated": [],
            "overdue_at_top": [],
        }
        events = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.actor_role == "system")
            .order_by(CaseEvent.id)
        ).all()
        assert [(e.action, e.data["from_level"], e.data["to_level"]) for e in events] == [
            ("escalate", "community", "street"),
            ("escalate", "street", "district"),
            ("overdue", "district", "district"),
        ]
        assert parked.escalation_level == "community" and not parked.overdue

        # closing after the deadline is an overdue close whatever was asked
        apply(session, case, "feedback", Actor(None, "unit", city.units["420102001001"]), at=now3)
        apply(session, case, "check", Actor(None, "collector"), at=now3, params={"photos": 1})
        ev = apply(session, case, "close", OP, at=now3 + timedelta(minutes=1), params={"close_type": "normal"})
        assert case.close_type == "overdue" and ev.data["on_time"] is False


def test_extension_moves_the_escalation_clock(city):
    t0 = local(2026, 11, 23, 9)
    with session_scope(city.url) as session:
        cal = load_calendar(session)
        case = dispatched_case(session, city, t0)
        unit = Actor(None, "unit", city.units["420102001001"])
        apply(session, case, "extension_request", unit, at=t0 + timedelta(hours=1), params={"value": 1, "unit": "days"})
        apply(session, case, "extension_approve", OP, at=t0 + timedelta(hours=2))
        assert case.due_at == cal.add(local(2026, 11, 23, 15), 1, "days") == case.escalate_at
        assert escalate_overdue(session, now=local(2026, 11, 23, 15, 30))["escalated"] == []


def test_cli_pass(city):
    with session_scope(city.url) as session:
        case_id = dispatched_case(session, city, local(2026, 3, 2, 9)).id
    res = CliRunner().invoke(app, ["cases", "escalate"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["escalated"] == [case_id]
    res = CliRunner().invoke(app, ["cases", "escalate"])
    assert json.loads(res.output)["escalated"] == []  # its street deadline is two working days from now
