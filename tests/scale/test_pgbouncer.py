"""The service through pgbouncer in transaction mode: intake, case reads, locate, tiles, and LISTEN kept off it.

A uvicorn worker is started with ``GEOGRID_DATABASE_URL`` pointing at pgbouncer (port 56432), ``GEOGRID_DB_POOLER=
transaction`` and ``GEOGRID_LISTEN_DATABASE_URL`` at the server itself. Transaction mode hands a server connection to
another client after every transaction, so anything that outlives one (a SQL PREPARE, a session SET, a LISTEN) would
break here: tiles are rendered more than once on different tiles, and a publication must still reach the worker.
"""

from __future__ import annotations

import math
import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geogrid.store.accounts import create_account
from geogrid.store.db import get_engine, session_scope
from tests.cases.conftest import build_city, report_body
from tests.conftest import SERVER_URL
from tests.pgbouncer import start_bouncer, stop_bouncer
from tests.servers import start_api, stop

API_PORT = 19511


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


@pytest.fixture
def bouncer():
    server = make_url(SERVER_URL)
    b = start_bouncer(server.host or "127.0.0.1", server.port or 5432)
    try:
        yield b
    finally:
        stop_bouncer(b)


def test_main_flows_through_pgbouncer_in_transaction_mode(store_url, bouncer, tmp_path) -> None:
    city = build_city(store_url)
    with session_scope(store_url) as session:
        _, reporter = create_account(session, "t-reporter", "reporter")
        _, operator = create_account(session, "t-operator", "operator")
    database = make_url(store_url).database
    env = {
        "GEOGRID_DB_POOLER": "transaction",
        "GEOGRID_LISTEN_DATABASE_URL": store_url,
        "GEOGRID_MEDIA_DIR": str(tmp_path / "media"),
    }
    proc = start_api(bouncer.url(database), API_PORT, env)
    base = f"http://127.0.0.1:{API_PORT}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            ids = []
            for i in range(6):  # intake: several transactions, on whichever server connection pgbouncer hands out
                r = http.post("/v1/reports", json=report_body(city.west), headers={"X-API-Key": reporter,
                              "Idempotency-Key": f"bouncer-{i}"})  # fmt: skip
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            got = http.get(f"/v1/cases/{ids[-1]}", headers={"X-API-Key": operator})
            assert got.status_code == 200 and got.json()["id"] == ids[-1]
            listed = http.get("/v1/cases", params={"limit": 50}, headers={"X-API-Key": operator})
            assert listed.status_code == 200, listed.text
            assert set(ids) <= {c["id"] for c in listed.json()["cases"]}
            located = http.get("/v1/locate", params={"lon": city.west[0], "lat": city.west[1]})
            assert located.status_code == 200 and located.json()["grid"]["code"]
            old_code = located.json()["grid"]["code"]
            for lon, lat in (city.west, city.east, city.west):  # several tiles: no prepared statement may be assumed
                z, x, y = tile_of(lon, lat, 15)
                tile = http.get(f"/tiles/grids.responsibility/{z}/{x}/{y}.mvt")
                assert tile.status_code == 200 and len(tile.content) > 50, tile.text
            _republish(store_url)  # NOTIFY: only a LISTEN held outside pgbouncer brings the change
            assert _wait(lambda: http.get("/v1/locate", params={"lon": city.west[0], "lat": city.west[1]}).json()
                         ["grid"]["code"] != old_code)  # fmt: skip
    finally:
        stop(proc)
    stats = {row["database"]: row for row in bouncer.admin("SHOW STATS")}
    assert stats[database]["total_xact_count"] >= 10  # the traffic did go through pgbouncer
    _assert_listen_direct(store_url, bouncer)


def _republish(url: str) -> None:
    """The responsibility plan again under new codes, notified."""
    with session_scope(url) as session:
        plan = session.execute(text("SELECT id, layer_id FROM plan WHERE status = 'published'")).one()
        session.execute(text("UPDATE plan SET status = 'retired' WHERE id = :p"), {"p": plan.id})
        new = session.execute(
            text("INSERT INTO plan (name, layer_id, version, status, valid_from) "
                 "VALUES ('resp-v2', :l, 2, 'published', now()) RETURNING id"), {"l": plan.layer_id},
        ).scalar()  # fmt: skip
        session.execute(
            text("INSERT INTO grid (plan_id, code, name, tier, community_id, geom) "
                 "SELECT :n, code || 'X', name, tier, community_id, geom FROM grid WHERE plan_id = :p"),
            {"n": new, "p": plan.id},
        )  # fmt: skip
        session.execute(text("SELECT pg_notify('geogrid_plans', 'responsibility')"))


def _wait(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _assert_listen_direct(url: str, bouncer) -> None:
    """No LISTEN ever ran on a server connection of pgbouncer's (their local ports are pgbouncer's side)."""
    pooled_ports = {row["local_port"] for row in bouncer.admin("SHOW SERVERS")}
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text("SELECT client_port, query FROM pg_stat_activity WHERE datname = current_database() "
                 "AND query LIKE 'LISTEN%'")
        ).all()  # fmt: skip
    assert not [r for r in rows if r.client_port in pooled_ports]
