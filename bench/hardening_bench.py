"""Hardening benchmark (issue 10): a flood on a public list with intake running, a 40 MB body, the edge's cost.

Builds a scratch store (``bench/intake_bench.py``'s district and a reporter key), then starts ``uvicorn api.main:app``
twice on 127.0.0.1 (ports 19010 and 19011), once with the edge (``api.edge``) and once with ``GEOGRID_EDGE=off``
(the strongest fair baseline: the same application and pools, no edge), and for each measures:

1. flood: ``--connections`` (200) anonymous connections on ``GET /v1/cases?limit=50`` for ``--duration`` (30) s,
   from a separate process, while ``--phones`` (4) phones each send a report every 0.1 s with an Idempotency-Key,
   retrying on 429/503/dropped connections as the app does: intake p50/p99/max per request and per report, reports
   acknowledged vs stored (exactly once: distinct keys), the flood's statuses, errors and timeouts, and the
   recovery time (flood end -> first 200 on the flooded list);
2. memory: a 40 MB ``POST /v1/locate/batch`` (Content-Length declared, then chunked without it): status and the
   worker's peak RSS growth (``VmHWM`` - ``VmRSS`` before);
3. overhead: ``--overhead-s`` (10) s of 8 keyed connections on ``GET /v1/cases?limit=1``: requests/s and p50.

Ratios edge/no-edge are printed. The client, uvicorn and PostgreSQL share the machine: read the figures as
relative. Usage::

    python bench/hardening_bench.py --duration 30 --connections 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import start_uvicorn  # noqa: E402

from geogrid.cases.models import Case  # noqa: E402
from geogrid.settings import database_url  # noqa: E402
from geogrid.store.accounts import create_account  # noqa: E402
from geogrid.store.db import drop_database, get_engine, init_store, sa_url, session_scope  # noqa: E402
from tests.cases.conftest import build_city  # noqa: E402  (the case tests' jurisdiction: 2 communities, 4 grids)

W, S = 114.30, 30.58
PORTS = {"edge": 19010, "no edge": 19011}


def start_api(url: str, port: int, media: str, edge: bool) -> subprocess.Popen:
    env = {
        "GEOGRID_DATABASE_URL": url,
        "GEOGRID_MEDIA_DIR": media,
        "GEOGRID_EDGE": "on" if edge else "off",
    }
    env["GEOGRID_EDGE_RATE_KEY"] = "100000"  # keyed callers (phones, overhead run) never refused by their bucket
    return start_uvicorn(env, port)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


# ---- the flood (child process) -----------------------------------------------------------------------------------
def _flood_child(base: str, connections: int, seconds: float, out) -> None:
    async def run() -> dict:
        statuses: Counter = Counter()
        lat: list[float] = []
        until = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

            async def one() -> None:
                while time.monotonic() < until:
                    t = time.monotonic()
                    try:
                        r = await http.get("/v1/cases", params={"limit": 50})
                        statuses[str(r.status_code)] += 1
                    except httpx.TimeoutException:
                        statuses["timeout"] += 1
                    except httpx.HTTPError as exc:
                        statuses[type(exc).__name__] += 1
                    lat.append(time.monotonic() - t)

            await asyncio.gather(*(one() for _ in range(connections)))
        return {"statuses": dict(statuses), "p50_s": pct(lat, 0.5), "p99_s": pct(lat, 0.99), "n": len(lat)}

    out.put(asyncio.run(run()))


async def _phones(base: str, key: str, seconds: float, phones: int, tag: str) -> dict:
    attempts: list[float] = []
    per_report: list[float] = []
    statuses: Counter = Counter()
    acked: dict[str, int] = {}
    until = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def phone(k: int) -> None:
            i = 0
            while time.monotonic() < until:
                idem = f"{tag}-{k}-{i}"
                body = {"lon": W + 0.001 + 0.0001 * (i % 100), "lat": S + 0.005, "category": "event:0102",
                        "description": f"bench report {idem}"}  # fmt: skip
                started = time.monotonic()
                for _ in range(200):
                    t = time.monotonic()
                    try:
                        r = await http.post(
                            "/v1/reports", json=body, headers={"X-API-Key": key, "Idempotency-Key": idem}
                        )
                    except httpx.HTTPError as exc:
                        statuses["timeout" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__] += 1
                        await asyncio.sleep(0.2)
                        continue
                    attempts.append(time.monotonic() - t)
                    statuses[str(r.status_code)] += 1
                    if r.status_code == 201:
                        acked[idem] = r.json()["id"]
                        per_report.append(time.monotonic() - started)
                        break
                    await asyncio.sleep(min(2.0, float(r.headers.get("retry-after", "0.2"))))
                i += 1
                await asyncio.sleep(0.1)

        await asyncio.gather(*(phone(k) for k in range(phones)))
    return {
        "statuses": dict(statuses),
        "acked": len(acked),
        "distinct_ids": len(set(acked.values())),
        "attempt_p50_s": pct(attempts, 0.5),
        "attempt_p99_s": pct(attempts, 0.99),
        "attempt_max_s": max(attempts, default=None),
        "report_p99_s": pct(per_report, 0.99),
    }


async def _recovery(base: str, flood_end: float) -> float | None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while time.monotonic() - flood_end < 120:
            try:
                if (await http.get("/v1/cases", params={"limit": 50})).status_code == 200:
                    return max(0.0, time.monotonic() - flood_end)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    return None


def flood(base: str, url: str, key: str, args: argparse.Namespace, tag: str) -> dict:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_flood_child, args=(base, args.connections, args.duration, out))
    child.start()
    time.sleep(1.0)  # the flood is on before the phones start
    flood_end = time.monotonic() + args.duration - 1.0
    intake = asyncio.run(_phones(base, key, args.duration - 2.0, args.phones, tag))
    flooded = out.get(timeout=args.duration + 120)
    child.join()
    recovery = asyncio.run(_recovery(base, flood_end))
    with session_scope(url) as session:
        like = Case.idempotency_key.like(f"{tag}-%")
        stored = session.scalar(select(func.count()).select_from(Case).where(like))
        distinct = session.scalar(select(func.count(func.distinct(Case.idempotency_key))).where(like))
    return {"intake": intake, "flood": flooded, "recovery_s": recovery, "stored": stored, "stored_distinct": distinct}


# ---- memory and overhead ------------------------------------------------------------------------------------------
def _rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def big_batch(base: str, pid: int) -> dict:
    point = b"[114.31,30.59],"
    body = b"[" + point * (40 * 1024 * 1024 // len(point)) + b"[114.31,30.59]]"
    before = _rss_kb(pid, "VmRSS")
    declared = httpx.post(f"{base}/v1/locate/batch", content=body, timeout=120,
                          headers={"Content-Type": "application/json"})  # fmt: skip

    def chunks():
        for i in range(0, len(body), 1 << 20):
            yield body[i : i + (1 << 20)]

    try:
        streamed = httpx.post(f"{base}/v1/locate/batch", content=chunks(), timeout=120,
                              headers={"Content-Type": "application/json"}).status_code  # fmt: skip
    except httpx.HTTPError as exc:  # the server may close the connection once it has answered 413
        streamed = type(exc).__name__
    peak = _rss_kb(pid, "VmHWM")
    return {"declared": declared.status_code, "chunked": streamed, "growth_mb": round((peak - before) / 1024, 1)}


async def _overhead(base: str, key: str, seconds: float) -> dict:
    lat: list[float] = []
    errors: Counter = Counter()
    until = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=8)) as http:

        async def one() -> None:
            while time.monotonic() < until:
                t = time.monotonic()
                try:
                    r = await http.get("/v1/cases", params={"limit": 1}, headers={"X-API-Key": key})
                    if r.status_code != 200:
                        errors[str(r.status_code)] += 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                lat.append(time.monotonic() - t)

        await asyncio.gather(*(one() for _ in range(8)))
    return {"rps": round(len(lat) / seconds, 1), "p50_ms": round(1000 * pct(lat, 0.5), 2), "errors": dict(errors)}


def measure(url: str, key: str, op_key: str, media: str, edge: bool, args: argparse.Namespace) -> dict:
    name = "edge" if edge else "no edge"
    port = PORTS[name]
    base = f"http://127.0.0.1:{port}"
    print(f"[{name}] starting uvicorn on {port}", flush=True)
    proc = start_api(url, port, media, edge)
    try:
        print(f"[{name}] overhead: {args.overhead_s} s of 8 keyed connections", flush=True)
        overhead = asyncio.run(_overhead(base, op_key, args.overhead_s))
        print(
            f"[{name}] flood: {args.connections} connections for {args.duration} s + {args.phones} phones", flush=True
        )
        flooded = flood(base, url, key, args, f"b{uuid.uuid4().hex[:6]}")
        print(f"[{name}] 40 MB batch", flush=True)
        memory = big_batch(base, proc.pid)
    finally:
        stop(proc)
    result = {"overhead": overhead, **flooded, "memory": memory}
    print(f"[{name}] {json.dumps(result, ensure_ascii=False)}", flush=True)
    return result


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=30.0, help="flood seconds")
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--phones", type=int, default=4)
    ap.add_argument("--overhead-s", type=float, default=10.0)
    args = ap.parse_args()
    url = make_url(sa_url(database_url())).set(database=f"geogrid_bench_hardening_{uuid.uuid4().hex[:8]}")
    url = url.render_as_string(hide_password=False)
    init_store(url)
    media = f"/tmp/geogrid-bench-media-{uuid.uuid4().hex[:6]}"
    try:
        build_city(url)
        with session_scope(url) as session:
            _, key = create_account(session, "bench-reporter", "reporter")
            _, op_key = create_account(session, "bench-operator", "operator")
        get_engine.cache_clear()
        on = measure(url, key, op_key, media, True, args)
        off = measure(url, key, op_key, media, False, args)
    finally:
        get_engine.cache_clear()
        drop_database(url)
    print("\n== summary (edge vs no edge, same run) ==")
    for name, r in (("edge", on), ("no edge", off)):
        i = r["intake"]
        i, f = r["intake"], r["flood"]
        print(f"{name:8} intake p50 {i['attempt_p50_s']}s p99 {i['attempt_p99_s']}s max {i['attempt_max_s']}s")
        print(f"{'':8} acked {i['acked']} stored {r['stored']} distinct {r['stored_distinct']}; intake {i['statuses']}")
        print(f"{'':8} flood {f['statuses']} p99 {f['p99_s']}s; recovery {r['recovery_s']}s")
        print(f"{'':8} 40 MB batch {r['memory']}; overhead {r['overhead']}")
    print(f"intake p99 ratio edge/no-edge: {ratio(on['intake']['attempt_p99_s'], off['intake']['attempt_p99_s'])}")
    print(f"keyed read throughput ratio edge/no-edge: {ratio(on['overhead']['rps'], off['overhead']['rps'])}")


if __name__ == "__main__":
    main()
