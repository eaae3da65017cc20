"""Reliability: reports with retries against a live uvicorn while PostgreSQL restarts: exactly N cases.

This test RESTARTS the local PostgreSQL cluster (``pg_ctlcluster --skip-systemctl-redirect 15 main restart``, as
root); it waits until the server answers again before finishing. Clients retry with the same Idempotency-Key on a
503 or a dropped connection; the API must answer 503 (not 500) while the database is away.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import psycopg2
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from geogrid.cases.models import Case, CaseEvent
from geogrid.store.db import get_engine, session_scope
from tests.cases.conftest import report_body

N_REPORTS = 60
CLIENTS = 3
RESTART = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"]
DEADLINE_S = 180
PACE_S = 0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_postgres(url: str, timeout: float = 60.0) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    end = time.monotonic() + timeout
    while True:
        try:
            conn = psycopg2.connect(dsn, connect_timeout=2)
            conn.cursor().execute("SELECT 1")
            conn.close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def start_api(url: str, media: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "GEOGRID_DATABASE_URL": url, "GEOGRID_MEDIA_DIR": media}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port), "--log-level",
         "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not come up")


def test_no_report_lost_or_duplicated_across_a_postgres_restart(city, keys, tmp_path):
    port = free_port()
    proc = start_api(city.url, str(tmp_path / "media"), port)
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
        subprocess.run(RESTART, check=True, timeout=120)
        wait_for_postgres(city.url)
        for t in threads:
            t.join(DEADLINE_S)
    finally:
        proc.terminate()
        proc.wait(30)

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
