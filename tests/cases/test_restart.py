"""Reliability: reports with retries against a live uvicorn while PostgreSQL restarts: exactly N cases.

The server restarted is a private cluster the test creates (``tests.pgcluster``: ``initdb`` + ``pg_ctl`` in a
temporary directory on a free port), never the shared one other engineers' tests use. Clients retry with the same
Idempotency-Key on a 503 or a dropped connection; the API must answer 503 (not 500) while the database is away.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from geogrid.cases.models import Case, CaseEvent
from geogrid.store.accounts import create_account
from geogrid.store.db import get_engine, init_store, session_scope
from tests.cases.conftest import build_city, report_body
from tests.pgcluster import destroy, free_port, start_cluster
from tests.servers import start_api, stop

N_REPORTS = 60
CLIENTS = 3
DEADLINE_S = 180
PACE_S = 0.1


@pytest.fixture
def private_city():
    """The case tests' city and keys in a database of a private cluster that the test may restart."""
    cluster = start_cluster()
    url = cluster.url("geogrid_restart")
    try:
        init_store(url)
        city = build_city(url)
        with session_scope(url) as session:
            _, key = create_account(session, "t-reporter", "reporter")
        get_engine.cache_clear()
        yield cluster, city, {"reporter": key}
    finally:
        get_engine.cache_clear()
        destroy(cluster)


def test_no_report_lost_or_duplicated_across_a_postgres_restart(private_city, tmp_path):
    cluster, city, keys = private_city
    port = free_port()
    proc = start_api(city.url, port, {"GEOGRID_MEDIA_DIR": str(tmp_path / "media")})
    statuses: list[int] = []
    dropped: list[str] = []
    ids: dict[str, int] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def client(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as http:
            for i in range(worker, N_REPORTS, CLIENTS):
                key = f"reliability-{i}"
                lon = city.west[0] + 0.0001 * i  # ~10 m apart: many are possible duplicates, none is merged
                body = report_body((lon, city.west[1]), description=f"report {i}")
                while time.monotonic() - started < DEADLINE_S:
                    try:
                        r = http.post(
                            "/v1/reports", json=body, headers={"X-API-Key": keys["reporter"], "Idempotency-Key": key}
                        )
                    except httpx.TransportError as exc:
                        with lock:
                            dropped.append(type(exc).__name__)
                        time.sleep(0.1)
                        continue
                    with lock:
                        statuses.append(r.status_code)
                    if r.status_code == 201:
                        with lock:
                            ids[key] = r.json()["id"]
                        time.sleep(PACE_S)  # a phone's pace, so the restart lands mid-run
                        break
                    time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        while len(ids) < N_REPORTS // 6 and time.monotonic() - started < DEADLINE_S:
            time.sleep(0.02)
        cluster.stop()
        time.sleep(1)  # requests in flight meet a server that is gone, not one that is merely restarting
        cluster.start()
        for t in threads:
            t.join(DEADLINE_S)
    finally:
        stop(proc)

    get_engine.cache_clear()
    with session_scope(city.url) as session:
        n_cases = session.scalar(select(func.count()).select_from(Case))
        n_keys = session.scalar(select(func.count(func.distinct(Case.idempotency_key))))
        stored_ids = set(session.scalars(select(Case.id)))
        n_reports = session.scalar(select(func.count()).where(CaseEvent.action == "report"))
    print(f"\nrestart run: {len(statuses)} responses, {statuses.count(503)} x 503, {len(dropped)} dropped connections")
    assert len(ids) == N_REPORTS, f"only {len(ids)} reports acknowledged; statuses {sorted(set(statuses))}"
    assert n_cases == n_keys == n_reports == N_REPORTS
    assert stored_ids == set(ids.values())
    assert 500 not in statuses and set(statuses) <= {201, 503}, sorted(set(statuses))
    assert statuses.count(503) + len(dropped) > 0  # the restart really hit requests in flight
