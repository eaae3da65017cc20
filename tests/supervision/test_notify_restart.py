"""Acceptance: notifications survive a PostgreSQL restart: none lost, duplicates only as re-deliveries of the same
event id, every body signed.

The test RESTARTS A PRIVATE CLUSTER it creates for itself (``initdb`` + ``pg_ctl`` in a temporary directory on a free
port, PostGIS from the same server binaries): the shared server at 5432 is never touched. Three delivery workers run
at once (two API processes with ``GEOGRID_NOTIFY_WORKER=1`` and a ``geogrid notify run`` process); a local receiver
refuses the first attempt of about a quarter of the messages so retries are exercised too. Cases are driven through
the API (report, accept, file, dispatch, return or close) while the cluster goes down for a few seconds; the time
limit is a few seconds of calendar time, so warnings, overdue notices and escalations are produced by the workers
themselves across the outage.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from geogrid.notify.models import Delivery, Notification
from geogrid.store.accounts import create_account
from geogrid.store.db import drop_database, get_engine, init_store, session_scope
from tests.cases.conftest import build_city, report_body
from tests.pgcluster import destroy, free_port, start_cluster
from tests.servers import start_api, start_worker, stop
from tests.supervision.receiver import Receiver

N_CASES = 18
LIMIT_HOURS = 0.003  # 10.8 s of calendar time: the warning at 80 % (8.6 s), then overdue and escalation
SECRET = "restart-test-secret-0123456789"
DEADLINE_S = 150


@pytest.fixture
def cluster():
    pg = start_cluster()
    yield pg
    destroy(pg)


class Driver:
    """A client that retries through the outage: 503 or a dropped connection means try again."""

    def __init__(self, base: str, keys: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=base, timeout=15)
        self.keys = keys
        self.outage_answers = 0

    def call(self, method: str, path: str, key: str, ok=(200, 201), **kw) -> httpx.Response:
        end = time.monotonic() + 90
        while True:
            try:
                r = self.http.request(
                    method, path, headers={"X-API-Key": self.keys[key], **kw.pop("headers", {})}, **kw
                )
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code in ok:
                return r
            if r is not None and r.status_code not in (503, 409):
                raise AssertionError(f"{method} {path}: {r.status_code} {r.text}")
            if r is not None and r.status_code == 409:
                return r  # an action whose first try committed before the answer was lost: the caller checks state
            self.outage_answers += 1
            assert time.monotonic() < end, f"{method} {path} kept failing"
            time.sleep(0.2)

    def act(self, case_id: int, action: str, key: str, want: str, **body) -> None:
        r = self.call("POST", f"/v1/cases/{case_id}/{action}", key, json=body)
        if r.status_code == 409:
            status = self.call("GET", f"/v1/cases/{case_id}", "operator").json()["status"]
            assert status == want, f"{action} on case {case_id}: 409 and status {status}"


def drive_case(d: Driver, i: int, point: tuple[float, float]) -> int:
    body = report_body((point[0] + 0.00005 * i, point[1]), description=f"restart {i}")
    r = d.call("POST", "/v1/reports", "reporter", json=body, headers={"Idempotency-Key": f"restart-{i}"})
    cid = r.json()["id"]
    d.act(cid, "accept", "operator", "accepted")
    d.act(cid, "file", "operator", "filed")
    d.act(cid, "dispatch", "operator", "dispatched")
    if i % 3 == 0:
        d.act(cid, "return", "unit_west", "returned", note="不属本单位")
    elif i % 3 == 1:
        d.act(cid, "close", "operator", "closed", close_type="special")
    return cid


def test_no_notification_lost_across_a_postgres_restart(cluster, tmp_path):
    url = cluster.url("geogrid_notify")
    init_store(url)
    city = build_city(url)
    keys: dict[str, str] = {}
    with session_scope(url) as session:
        for role in ("operator", "reporter"):
            _, keys[role] = create_account(session, f"r-{role}", role)
        _, keys["unit_west"] = create_account(session, "r-unit", "unit", city.units["420102001001"])
    get_engine.cache_clear()

    receiver = Receiver(SECRET, fail_first=set("0123")).start()
    port = free_port()
    extra = {"GEOGRID_MEDIA_DIR": str(tmp_path / "media"), "GEOGRID_NOTIFY_WORKER": "1"}
    api = start_api(url, port, extra, workers=2)
    worker = start_worker(url, extra)
    d = Driver(f"http://127.0.0.1:{port}", keys)
    try:
        d.call("POST", "/v1/webhooks", "operator", json={"url": receiver.url, "secret": SECRET})
        limit = {"category": "event:0102", "urgency": "normal", "value": LIMIT_HOURS, "unit": "hours", "working": False}
        d.call("POST", "/v1/time-limits", "operator", json=limit)

        restarted = threading.Event()

        def restart_midway() -> None:
            while len(receiver.snapshot()) < 4:
                time.sleep(0.05)
            cluster.stop()
            time.sleep(3)  # requests and deliveries in flight meet a dead server
            cluster.start()
            restarted.set()

        outage = threading.Thread(target=restart_midway)
        outage.start()
        t0 = time.monotonic()
        cases = [drive_case(d, i, city.west) for i in range(N_CASES)]
        outage.join(60)
        t1 = time.monotonic()
        assert restarted.is_set(), "the restart did not happen while cases were driven"

        open_cases = [c for i, c in enumerate(cases) if i % 3 == 2]  # never returned or closed: they go overdue
        expected = Counter({"case.assigned": N_CASES, "case.returned": N_CASES // 3, "case.closed": N_CASES // 3,
                            "case.warning": len(open_cases), "case.overdue": len(open_cases),
                            "case.escalated": len(open_cases)})  # fmt: skip
        end = time.monotonic() + DEADLINE_S
        while time.monotonic() < end:
            with session_scope(url) as session:
                kinds = Counter(session.scalars(select(Notification.kind)))
                pending = session.scalar(select(Delivery.id).where(Delivery.status != "delivered").limit(1))
            if kinds == expected and pending is None:
                break
            time.sleep(0.5)
        timing = f"driven in {t1 - t0:.1f} s, all delivered {time.monotonic() - t1:.1f} s later"
    finally:
        worker_out = stop(worker)
        stop(api)
        receiver.stop()
        get_engine.cache_clear()

    with session_scope(url) as session:
        stored = {str(e): k for e, k in session.execute(select(Notification.event_id, Notification.kind))}
        statuses = Counter(session.scalars(select(Delivery.status)))
    by_id = receiver.check_all()
    duplicates = sum(len(v) - 1 for v in by_id.values())
    print(f"\nnotify restart: {len(stored)} events, {sum(len(v) for v in by_id.values())} deliveries "
          f"({duplicates} re-deliveries, {sum(receiver.refused.values())} refused first attempts), "
          f"{d.outage_answers} API answers 503/dropped; {timing}; worker: {worker_out.strip()[-300:]}")  # fmt: skip
    assert Counter(stored.values()) == expected, Counter(stored.values())
    assert set(by_id) == set(stored), "every stored event reached the receiver, and nothing else did"
    assert statuses == Counter({"delivered": len(stored)})
    assert all(by_id[e][0].kind == k for e, k in stored.items())
    assert sum(receiver.refused.values()) > 0 and d.outage_answers > 0  # retries and the outage really happened
    drop_database(url)
