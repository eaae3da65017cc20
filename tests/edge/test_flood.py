"""A flood of anonymous connections on a public list while reports come in (issue 10's starvation probe, bounded).

200 connections ask ``GET /v1/cases?limit=50`` for a few seconds against a real uvicorn while three phones send
reports with Idempotency-Keys. The flooded list must be refused fast (429/503, never 500) and answer again after the
flood; every report must be acknowledged and stored exactly once. Timing figures are measured by
``bench/hardening_bench.py``; this test asserts outcomes only.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from sqlalchemy import func, select

from geogrid.cases.models import Case
from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from tests.cases.conftest import report_body
from tests.pgcluster import free_port
from tests.servers import start_api, stop

FLOOD_CONNECTIONS = 200
FLOOD_S = 5.0
REPORTS = 30


async def _flood(base: str, until: float, statuses: Counter) -> None:
    limits = httpx.Limits(max_connections=FLOOD_CONNECTIONS, max_keepalive_connections=FLOOD_CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def one() -> None:
            while time.monotonic() < until:
                try:
                    r = await http.get("/v1/cases", params={"limit": 50})
                    statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1

        await asyncio.gather(*(one() for _ in range(FLOOD_CONNECTIONS)))


async def _phones(base: str, key: str, city, acked: dict[str, int], statuses: Counter) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def phone(k: int) -> None:
            for i in range(k, REPORTS, 3):
                idem = f"flood-{i}"
                body = report_body((city.west[0] + 0.00005 * i, city.west[1]), description=f"flood report {i}")
                for _ in range(100):
                    try:
                        r = await http.post(
                            "/v1/reports", json=body, headers={"X-API-Key": key, "Idempotency-Key": idem}
                        )
                    except httpx.HTTPError as exc:
                        statuses[type(exc).__name__] += 1
                        await asyncio.sleep(0.2)
                        continue
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        acked[idem] = r.json()["id"]
                        break
                    await asyncio.sleep(float(r.headers.get("retry-after", "0.2")))
                await asyncio.sleep(0.1)

        await asyncio.gather(*(phone(k) for k in range(3)))


async def _recovered(base: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for _ in range(100):
            r = await http.get("/v1/cases", params={"limit": 50})
            if r.status_code == 200:
                return r.status_code
            await asyncio.sleep(0.1)
        return r.status_code


def test_a_flooded_public_list_does_not_starve_intake(city, tmp_path) -> None:
    with session_scope(city.url) as session:
        _, key = create_account(session, "flood-reporter", "reporter")
    port = free_port()
    proc = start_api(city.url, port, {"GEOGRID_MEDIA_DIR": str(tmp_path / "media")})
    base = f"http://127.0.0.1:{port}"
    flood, intake, acked = Counter(), Counter(), {}

    async def scenario() -> int:
        until = time.monotonic() + FLOOD_S
        await asyncio.gather(_flood(base, until, flood), _phones(base, key, city, acked, intake))
        return await _recovered(base)

    try:
        after = asyncio.run(scenario())
    finally:
        stop(proc)
    print(f"\nflood statuses {dict(flood)}; intake statuses {dict(intake)}")
    assert set(flood) <= {200, 429, 503}, flood
    assert flood[429] + flood[503] > 0, "the flood was never refused"
    assert after == 200, "the public list did not answer again after the flood"
    assert 500 not in intake and len(acked) == REPORTS, intake
    with session_scope(city.url) as session:
        stored = session.scalar(select(func.count()).select_from(Case))
        keys = session.scalar(select(func.count(func.distinct(Case.idempotency_key))))
    assert stored == REPORTS and keys == REPORTS and len(set(acked.values())) == REPORTS
