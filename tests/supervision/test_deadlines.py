"""Deadline warnings, the 5-working-day cap, extensions, the calendar's years, satisfaction, and the dead-letter
path of webhook deliveries: through the API where a user would act, through the library where time must be set."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from geogrid.cases.calendar import CalendarMissing, WorkCalendar, load_calendar
from geogrid.cases.calendar_seed import package_years
from geogrid.cases.models import CalendarYear, Case
from geogrid.cli import app
from geogrid.notify.settings import NotifySettings
from geogrid.notify.worker import run as run_worker
from geogrid.routing.models import TimeLimit
from geogrid.store.db import session_scope
from geogrid.supervision.deadlines import tick
from tests.cases.conftest import h
from tests.supervision.helpers import act, dispatched, ok, report
from tests.supervision.receiver import Receiver


def limit(client, key, **body):
    return client.post("/v1/time-limits", json={"category": "event:0102", "urgency": "normal", **body}, headers=h(key))


def test_time_limits_are_capped_at_five_working_days_unless_exempt_with_a_reason(client, city, keys):
    op = keys["operator"]
    r = limit(client, op, value=6, unit="days")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "value" and "5" in r.json()["message"]
    assert limit(client, op, value=36, unit="hours").status_code == 422  # 36 working hours > 5 × 7 h
    r = limit(client, op, value=6, unit="days", exempt_from_cap=True)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "exempt_reason"
    stored = ok(limit(client, op, value=15, unit="days", exempt_from_cap=True, exempt_reason="违法建设法定程序"), 201)
    assert stored["exempt_from_cap"] is True
    ok(limit(client, op, value=5, unit="days"), 201)
    with session_scope(city.url) as session:  # a row stored before the cap existed
        session.execute(delete(TimeLimit).where(TimeLimit.code == "0102"))
        session.add(TimeLimit(kind="event", code="0102", urgency="normal", value=30, unit="days"))
    routed = ok(client.post("/v1/route", json={"lon": city.west[0], "lat": city.west[1], "category": "event:0102"}))
    assert routed["time_limit"]["value"] == 5 and routed["time_limit"]["capped_from"]["value"] == 30

    ok(limit(client, op, value=4, unit="days"), 201)
    cid = dispatched(client, keys, city.west)
    ok(act(client, cid, "handle", keys["unit_west"]))
    r = act(client, cid, "extension-request", keys["unit_west"], value=2, unit="days")
    assert r.status_code == 422 and "cap" in r.json()["details"][0]["reason"]
    ok(act(client, cid, "extension-request", keys["unit_west"], value=1, unit="days"))
    assert ok(act(client, cid, "extension-approve", keys["operator"]))["extension_count"] == 1


def test_warning_at_eighty_percent_once_then_again_after_an_extension(client, city, keys):
    ok(limit(client, keys["operator"], value=10, unit="hours"), 201)
    cid = dispatched(client, keys, city.west)
    with session_scope(city.url) as session:
        case = session.get(Case, cid)
        cal = load_calendar(session)
        start, due, warn_at = case.dispatched_at, case.due_at, case.warn_at
    assert cal.working_time(start, warn_at) == timedelta(hours=8)  # 80 % of 10 working hours
    with session_scope(city.url) as session:
        assert tick(session, warn_at - timedelta(seconds=1))["warned"] == []
        assert tick(session, warn_at + timedelta(seconds=1))["warned"] == [cid]
        assert tick(session, warn_at + timedelta(seconds=2))["warned"] == []  # once
    notes = ok(client.get(f"/v1/notifications?case_id={cid}&kind=case.warning", headers=h(keys["operator"])))
    (note,) = notes["notifications"]
    assert note["event"]["data"]["due_at"] == due.isoformat() and note["case"]["id"] == cid
    ok(act(client, cid, "handle", keys["unit_west"]))
    ok(act(client, cid, "extension-request", keys["unit_west"], value=10, unit="hours"))
    ok(act(client, cid, "extension-approve", keys["operator"]))
    with session_scope(city.url) as session:
        case = session.get(Case, cid)
        assert cal.working_time(start, case.warn_at) == timedelta(hours=16)  # 80 % of the 20 hours now allowed
        assert tick(session, case.due_at + timedelta(seconds=1))["escalated"] == [cid]
    kinds = [n["type"] for n in ok(client.get(f"/v1/notifications?case_id={cid}", headers=h(keys["operator"])))[
        "notifications"]]  # fmt: skip
    assert sorted(kinds) == ["case.assigned", "case.escalated", "case.overdue", "case.warning", "case.warning"]


def test_calendar_comes_from_the_package_and_refuses_unknown_years(client, city, keys, tmp_path):
    with session_scope(city.url) as session:
        cal = load_calendar(session)
        assert set(range(2004, 2027)) <= set(package_years()) and cal.years >= set(package_years())
    assert cal.is_workday(date(2026, 10, 10)) and not cal.is_workday(date(2026, 10, 1))  # 调休上班 / 国庆节
    assert not cal.is_workday(date(2026, 2, 17))  # 春节
    with pytest.raises(CalendarMissing, match="2099"):
        cal.add(datetime(2099, 3, 2, 9, 0).astimezone(), 1, "days")
    assert WorkCalendar().add(datetime(2099, 3, 2, 9, 0).astimezone(), 1, "days")  # hand-made: every year

    with session_scope(city.url) as session:  # beyond next year nothing is guessed
        with pytest.raises(CalendarMissing, match=str(datetime.now().year + 3)):
            load_calendar(session).add(datetime(datetime.now().year + 3, 3, 2, 9).astimezone(), 1, "days")
        session.execute(delete(CalendarYear).where(CalendarYear.year == datetime.now().year))
    cid = dispatched(client, keys, city.west)  # this year is always countable: provisional until a notice arrives
    with session_scope(city.url) as session:
        source = session.scalar(select(CalendarYear.source).where(CalendarYear.year == datetime.now().year))
        assert source.startswith("provisional") and session.get(Case, cid).due_at is not None

    year = datetime.now().year
    override = tmp_path / "override.yaml"
    override.write_text(f"holidays:\n  - {{date: {year}-12-30, name: 测试假日}}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["calendar", "import", str(override)])
    assert result.exit_code == 0 and f"provisional year(s) {year} replaced" in result.stdout
    with session_scope(city.url) as session:
        assert not load_calendar(session).is_workday(date(year, 12, 30))
        assert session.scalar(select(CalendarYear.source).where(CalendarYear.year == year)) == "import override.yaml"
        session.execute(delete(CalendarYear).where(CalendarYear.year == 2010))
    result = CliRunner().invoke(app, ["calendar", "seed"])
    assert result.exit_code == 0 and '"years_added": [\n    2010\n  ]' in result.stdout
    with session_scope(city.url) as session:
        assert session.scalar(select(CalendarYear.source).where(CalendarYear.year == year)) == "import override.yaml"


def test_satisfaction_from_the_reporter_once_on_a_closed_case(client, city, keys):
    cid = report(client, keys["reporter"], city.west)["id"]
    rate = lambda key, **body: client.post(f"/v1/cases/{cid}/satisfaction", json=body, headers=h(key))  # noqa: E731
    assert rate(keys["reporter"], satisfaction=4).status_code == 409  # not closed yet
    ok(act(client, cid, "accept", keys["operator"]))
    ok(act(client, cid, "close", keys["operator"], close_type="special"))
    assert rate(keys["reporter"], satisfaction=6).status_code == 422
    assert rate(keys["reporter2"], satisfaction=4).status_code == 403  # not the reporter
    assert ok(rate(keys["reporter"], satisfaction=4, comment="处理及时"))["satisfaction"] == 4
    assert rate(keys["reporter"], satisfaction=5).status_code == 409  # once
    assert ok(client.get(f"/v1/cases/{cid}", headers=h(keys["operator"])))["satisfaction"] == 4

    other = report(client, keys["reporter"], city.east)["id"]
    ok(act(client, other, "accept", keys["operator"]))
    ok(act(client, other, "close", keys["operator"], close_type="special"))
    url = f"/open311/v2/requests/{other}/satisfaction.json"
    assert client.post(url, data={"api_key": keys["reporter"], "satisfaction": "9"}).status_code == 400
    body = ok(client.post(url, data={"api_key": keys["reporter"], "satisfaction": "2"}))
    assert body == [{"service_request_id": str(other), "satisfaction": 2}]


def test_failed_deliveries_are_retried_then_dead_lettered_and_can_be_replayed(client, city, keys):
    receiver = Receiver("dead-letter-secret-0123456789", always_fail=True).start()
    try:
        ok(client.post("/v1/webhooks", json={"url": receiver.url, "secret": receiver.secret},
                       headers=h(keys["operator"])), 201)  # fmt: skip
        bad = client.post("/v1/webhooks", json={"url": "ftp://x", "secret": "s" * 20}, headers=h(keys["operator"]))
        assert bad.status_code == 422
        assert "secret" not in ok(client.get("/v1/webhooks", headers=h(keys["operator"])))[0]
        cid = dispatched(client, keys, city.west)
        settings = NotifySettings(max_attempts=3, backoff_base_s=0.0, poll_s=0.01)
        for _ in range(3):
            run_worker(city.url, settings, threading.Event(), once=True)
        dead = ok(client.get("/v1/notifications?status=dead", headers=h(keys["operator"])))["notifications"]
        assert [(n["type"], n["case"]["id"]) for n in dead] == [("case.assigned", cid)]
        delivery = dead[0]["deliveries"][0]
        assert delivery["attempts"] == 3 and delivery["last_status"] == 500 and len(receiver.refused) == 1

        receiver.always_fail = False
        ok(client.post(f"/v1/notifications/deliveries/{delivery['id']}/retry", headers=h(keys["operator"])))
        run_worker(city.url, settings, threading.Event(), once=True)
        (got,) = receiver.check_all().values()
        assert got[0].event_id == dead[0]["id"]
        done = ok(client.get("/v1/notifications?status=delivered", headers=h(keys["operator"])))["notifications"]
        assert [n["id"] for n in done] == [dead[0]["id"]]
    finally:
        receiver.stop()
