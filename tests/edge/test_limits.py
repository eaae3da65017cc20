"""Rate limits and bulkheads: 429/503 with Retry-After, per key vs per address, admins exempt, bounded queues."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from api.bulkhead import Gate, GateFull
from api.classes import RouteClass, classify
from api.ratelimit import Buckets, Rate


def test_token_bucket_refills_and_says_when() -> None:
    buckets, rate = Buckets(), Rate(per_second=2, burst=3)
    assert [buckets.take(("a",), rate, now=0.0) for _ in range(3)] == [0, 0, 0]
    assert buckets.take(("a",), rate, now=0.0) == 1  # empty: retry in a second
    assert buckets.take(("b",), rate, now=0.0) == 0  # another caller has its own bucket
    assert buckets.take(("a",), rate, now=0.6) == 0  # 1.2 tokens back


def test_the_gate_queues_a_bounded_number_and_refuses_the_rest() -> None:
    gate = Gate(RouteClass("t", slots=1, queue_per_slot=1, wait=0.05, timeout_ms=1000))

    async def scenario() -> list[str]:
        await gate.enter()  # the one slot
        waiting = asyncio.create_task(gate.enter())
        await asyncio.sleep(0)
        outcomes = []
        try:
            await gate.enter()  # the queue (1) is full: refused at once
        except GateFull as exc:
            outcomes.append(f"full:{exc.retry_after}")
        try:
            await waiting  # nobody leaves within the wait
        except GateFull:
            outcomes.append("timeout")
        gate.leave()
        await gate.enter()  # the slot is free again
        outcomes.append(f"inside:{gate.inside}")
        return outcomes

    assert asyncio.run(scenario()) == ["full:1", "timeout", "inside:1"]
    assert gate.stats.refused_full == 1 and gate.stats.refused_timeout == 1


def test_classes() -> None:
    assert classify("POST", "/v1/reports", True) == "intake"
    assert classify("POST", "/v1/cases/12/dispatch", True) == "intake"
    assert classify("POST", "/open311/v2/requests.json", False) == "intake"
    assert classify("GET", "/v1/cases", False) == "public"
    assert classify("GET", "/v1/cases", True) == "reads"
    assert classify("GET", "/tiles/plan.a/3/1/2.mvt", False) == "tiles"
    assert classify("GET", "/collections/plan.a/items", False) == "features"
    assert classify("GET", "/v1/units", False) == "reads"


@pytest.fixture
def limited_client(city, tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GEOGRID_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("GEOGRID_EDGE_RATE_ANON", "0.5")
    monkeypatch.setenv("GEOGRID_EDGE_RATE_ANON_BURST", "3")
    monkeypatch.setenv("GEOGRID_EDGE_RATE_KEY", "0.5")
    monkeypatch.setenv("GEOGRID_EDGE_RATE_KEY_BURST", "5")
    from api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def test_rate_limits_per_address_and_per_key(limited_client, city_keys) -> None:
    anon = [limited_client.get("/v1/cases").status_code for _ in range(5)]
    assert anon[:3] == [200, 200, 200] and anon[3] == 429
    refused = limited_client.get("/v1/cases")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == "rate_limited"
    # the same address with a reporter's key: its own bucket, not throttled by the anonymous flood
    keyed = [
        limited_client.get("/v1/cases", headers={"X-API-Key": city_keys["reporter"]}).status_code for _ in range(5)
    ]
    assert keyed == [200] * 5
    assert limited_client.get("/v1/cases", headers={"X-API-Key": city_keys["reporter"]}).status_code == 429
    admin = {"X-API-Key": city_keys["admin"]}
    assert {limited_client.get("/v1/cases", headers=admin).status_code for _ in range(20)} == {200}


def test_rate_limits_can_be_switched_off(city, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOGRID_EDGE_RATE_LIMITS", "off")
    monkeypatch.setenv("GEOGRID_EDGE_RATE_ANON", "0.5")
    monkeypatch.setenv("GEOGRID_EDGE_RATE_ANON_BURST", "1")
    from api.main import create_app

    with TestClient(create_app()) as client:
        assert {client.get("/v1/cases").status_code for _ in range(5)} == {200}


def test_statement_timeout_is_set_per_class(city, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from api import db
    from api.edge import ROUTE_CLASS

    db.class_engine.cache_clear()
    token = ROUTE_CLASS.set("public")
    try:
        with db.engine().connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "3s"
    finally:
        ROUTE_CLASS.reset(token)
    monkeypatch.setenv("GEOGRID_DB_TIMEOUT_MODE", "set_local")
    monkeypatch.setenv("GEOGRID_EDGE_INTAKE_TIMEOUT_MS", "1234")
    db.class_engine.cache_clear()
    token = ROUTE_CLASS.set("intake")
    try:
        with db.engine().connect() as conn, conn.begin():
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
    finally:
        ROUTE_CLASS.reset(token)
        db.class_engine.cache_clear()
