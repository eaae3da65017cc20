"""Intake at scale: the cold-worker deadlock stays fixed, and a new report costs at most 4 database round trips.

The deadlock (issue 9): on a freshly started worker, a thread held the routing index lock while it waited for a
pool connection, and every pool connection was held by a request queued on that lock. Now the index is built on a
connection of its own, under no lock; this test starts a cold worker with a tiny pool and sends many reports at
once.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from geogrid.cases.models import Case, CaseEvent
from geogrid.store.db import session_scope
from tests.cases.conftest import h, report_body
from tests.pgcluster import free_port
from tests.pgwire import CountingProxy
from tests.servers import start_api, stop

CONCURRENT = 48


def test_many_reports_on_a_cold_worker_with_a_small_pool_all_land_once(city, keys) -> None:
    env = {"GEOGRID_DB_POOL_SIZE": "2", "GEOGRID_DB_MAX_OVERFLOW": "0", "GEOGRID_LOCATE_POLL_SECONDS": "3600"}
    port = free_port()
    proc = start_api(city.url, port, env)  # /healthz answers before any index exists: the worker is cold
    try:
        barrier = threading.Barrier(CONCURRENT)

        def post(i: int) -> int:
            barrier.wait()
            body = report_body(city.west if i % 2 else city.east)
            headers = h(keys["reporter"], **{"Idempotency-Key": f"cold-{i}"})
            resp = httpx.post(f"http://127.0.0.1:{port}/v1/reports", json=body, headers=headers, timeout=120)
            return resp.status_code

        with ThreadPoolExecutor(CONCURRENT) as pool:
            codes = list(pool.map(post, range(CONCURRENT)))
    finally:
        stop(proc)
    assert codes == [201] * CONCURRENT
    with session_scope(city.url) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == CONCURRENT
        keys_seen = session.scalars(select(Case.idempotency_key)).all()
        assert sorted(keys_seen) == sorted(f"cold-{i}" for i in range(CONCURRENT))
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == CONCURRENT


def test_a_new_report_costs_at_most_four_round_trips(city, keys, monkeypatch) -> None:
    """Counted on the wire: a proxy between the app and PostgreSQL counts the app's query messages."""
    url = make_url(city.url)
    proxy = CountingProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port, query={"sslmode": "disable"})
    monkeypatch.setenv("GEOGRID_DATABASE_URL", proxied.render_as_string(hide_password=False))
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "3600")
    from fastapi.testclient import TestClient

    from api.main import create_app

    try:
        with TestClient(create_app()) as client:
            first = client.post("/v1/reports", json=report_body(city.west), headers=h(keys["reporter"]))
            assert first.status_code == 201  # warms the pool, the index and the dialect's first-connect queries
            before, seen = proxy.snapshot()
            headers = h(keys["reporter"], **{"Idempotency-Key": uuid.uuid4().hex})
            resp = client.post("/v1/reports", json=report_body(city.east, description="second"), headers=headers)
            after, _ = proxy.snapshot()
            replay = client.post("/v1/reports", json=report_body(city.east, description="second"), headers=headers)
    finally:
        proxy.close()
    assert resp.status_code == 201, resp.text
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == resp.json()["id"]
    # the locate index's own connections (LISTEN, counter polls, builds) are not the request's round trips
    index_conns = proxy.connections_sending("store_version", "LISTEN")
    window = proxy.queries[seen : seen + (after - before)]
    statements = [q for c, q in window if c not in index_conns]
    # the one intake statement in autocommit; on a slow machine the key cache (4 s) may have expired (a lookup) and
    # a connection idle 10 s is pinged: never more than the 4
    assert len(statements) <= 4, [q[:60] for q in statements]
    assert statements[-1].lstrip().startswith("WITH prior AS"), statements
    assert sum("INSERT INTO case_report" in q for q in statements) == 1
    with session_scope(city.url) as session:
        case = session.get(Case, resp.json()["id"])
        assert case.description == "second" and case.unit_id is not None
        events = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id)).all()
        assert events == ["report"]
