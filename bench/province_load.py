"""Province-shaped load test: 2 API workers behind a streaming read replica and pgbouncer vs straight on the primary.

Builds a private primary cluster (``initdb``, port 19530) holding ``--grids`` grids (``bench/province_store.py``),
a streaming replica of it (``pg_basebackup -R``, port 55433) and pgbouncer in transaction mode (port 56432). Then the
same peak mix runs twice against ``uvicorn api.main:app --workers 2``, same concurrency, same duration:

1. baseline:   the API straight on the primary (no replica, no pooler);
2. replicated: ``GEOGRID_DATABASE_URL`` through pgbouncer, ``GEOGRID_READ_DATABASE_URLS`` the replica (locate index,
               tiles), LISTEN on the primary directly.

The mix is closed-loop: ``--reports`` clients ``POST /v1/reports`` (unique Idempotency-Key, random point),
``--locate`` clients ``GET /v1/locate``, ``--tiles`` clients fetch random tiles at zoom 13-16 (mostly cache misses).
For each kind it prints requests/s, p50, p99, errors (non-2xx) and timeouts (10 s), plus the ratio replicated /
baseline; acknowledged reports are counted in the database (stored exactly once). Finally ``pgbench`` measures how
many single-point ``ST_Covers`` lookups/s the replica answers (the figure the scaling arithmetic uses).

Everything shares this machine's cores (client, 2 workers, primary, replica, pgbouncer): read the figures as relative.
Usage::

    python bench/province_load.py --grids 500000 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.province_store import Province, build_province  # noqa: E402
from geogrid.store.db import get_engine  # noqa: E402
from tests.pgbouncer import start_bouncer, stop_bouncer  # noqa: E402
from tests.pgcluster import bindir, destroy, start_cluster, start_replica  # noqa: E402

PRIMARY_PORT, API_PORT = 19530, 19540
SERVER_OPTIONS = "-c max_connections=300 -c shared_buffers=256MB -c hot_standby_feedback=on"
TIMEOUT_S = 10.0


@dataclass
class Kind:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self, seconds: float) -> dict:
        lat = np.array(self.latencies) * 1000 if self.latencies else np.array([np.nan])
        return {
            "ok": len(self.latencies),
            "per_s": round(len(self.latencies) / seconds, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1),
            "errors": self.errors,
            "timeouts": self.timeouts,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


# ---- requests ----------------------------------------------------------------------------------------------------
def _point(p: Province, rng: random.Random) -> tuple[float, float]:
    w, s, e, n = p.bounds
    return rng.uniform(w, e), rng.uniform(s, n)


def _tile(p: Province, rng: random.Random) -> str:
    lon, lat = _point(p, rng)
    z = rng.choice((13, 14, 15, 16))
    scale = 2**z
    y = (1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / np.pi) / 2 * scale
    return f"/tiles/grids.responsibility/{z}/{int((lon + 180) / 360 * scale)}/{int(y)}.mvt"


async def _one(http: httpx.AsyncClient, kind: str, p: Province, rng: random.Random) -> httpx.Response:
    if kind == "reports":
        lon, lat = _point(p, rng)
        body = {"lon": lon, "lat": lat, "crs": "wgs84", "category": "event:0102", "description": "bench"}
        headers = {"X-API-Key": p.reporter_key, "Idempotency-Key": uuid.uuid4().hex}
        return await http.post("/v1/reports", json=body, headers=headers)
    if kind == "locate":
        lon, lat = _point(p, rng)
        return await http.get("/v1/locate", params={"lon": lon, "lat": lat})
    return await http.get(_tile(p, rng))


async def _client(http, kind: str, p: Province, stats: Kind, end: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            r = await _one(http, kind, p, rng)
        except httpx.TimeoutException:
            stats.timeouts += 1
            continue
        except httpx.HTTPError:
            stats.errors += 1
            continue
        stats.statuses[r.status_code] = stats.statuses.get(r.status_code, 0) + 1
        if 200 <= r.status_code < 300:
            stats.latencies.append(time.monotonic() - t0)
        else:
            stats.errors += 1


async def run_mix(base: str, p: Province, mix: dict[str, int], seconds: float) -> dict[str, Kind]:
    """All kinds at once, each with its own number of closed-loop clients, for ``seconds``."""
    stats = {kind: Kind() for kind in mix}
    limits = httpx.Limits(max_connections=sum(mix.values()) + 4, max_keepalive_connections=sum(mix.values()) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, limits=limits) as http:
        end = time.monotonic() + seconds
        tasks = [
            _client(http, kind, p, stats[kind], end, seed=hash((kind, i)) & 0xFFFF)
            for kind, n in mix.items()
            for i in range(n)
        ]
        await asyncio.gather(*tasks)
    return stats


# ---- topology ----------------------------------------------------------------------------------------------------
def start_api(env: dict[str, str], workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(API_PORT),
           "--workers", str(workers), "--log-level", "warning",
           "--timeout-worker-healthcheck", "300"]  # fmt: skip
    # the health check must outlast an index build, which holds the GIL for seconds at 100k+ grids (issue 9)
    full = {**os.environ, "GEOGRID_LOCATE_POLL_SECONDS": "30", **env}
    return subprocess.Popen(cmd, env=full, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_api(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def warm(base: str, p: Province, workers: int) -> float:
    """Until every worker answers locate, a report and a tile (index builds, routing index, tile table fill)."""
    t0 = time.monotonic()
    rng = random.Random(1)
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
        for kind in ("locate", "reports", "tiles"):
            for _ in range(60):  # every worker must have built what this kind needs: concurrent rounds
                try:
                    rounds = await asyncio.gather(*[_one(http, kind, p, rng) for _ in range(workers * 4)])
                except httpx.HTTPError as exc:
                    print(f"[warm] {kind}: {exc!r}; again", flush=True)
                    await asyncio.sleep(1)
                    continue
                if all(200 <= r.status_code < 300 for r in rounds):
                    break
                await asyncio.sleep(1)
            else:
                raise RuntimeError(f"{kind} never answered 2xx while warming")
    return time.monotonic() - t0


def measure(label: str, env: dict[str, str], p: Province, args) -> dict:
    """Start the workers with ``env``, warm them, run the mix, count stored reports, stop them."""
    base = f"http://127.0.0.1:{API_PORT}"
    proc = start_api({"GEOGRID_DATABASE_URL": p.url, **env}, args.workers)
    try:
        warm_s = asyncio.run(warm(base, p, args.workers))
        print(f"[{label}] warm in {warm_s:.0f} s; running the mix for {args.duration:.0f} s …", flush=True)
        before = _cases(p.url)
        mix = {"reports": args.reports, "locate": args.locate, "tiles": args.tiles}
        stats = asyncio.run(run_mix(base, p, mix, args.duration))
        stored = _cases(p.url) - before
    finally:
        stop_api(proc)
    out = {kind: s.summary(args.duration) for kind, s in stats.items()}
    out["reports"]["stored"] = stored
    out["warm_s"] = round(warm_s, 1)
    return out


def _cases(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM case_report")).scalar()


def pgbench_covers(port: int, database: str, p: Province, seconds: int = 10, clients: int = 4) -> float:
    """Single-point ST_Covers lookups per second on the replica (pgbench, ``clients`` connections, 2 threads)."""
    w, s, e, n = p.bounds
    script = Path(f"/tmp/geogrid-covers-{os.getpid()}.sql")
    script.write_text(
        f"\\set x {w} + random(0, 1000000) * {(e - w) / 1e6}\n\\set y {s} + random(0, 1000000) * {(n - s) / 1e6}\n"
        "SELECT code FROM grid WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490));\n"
    )
    cmd = [str(bindir() / "pgbench"), "-n", "-f", str(script), "-c", str(clients), "-j", "2", "-T", str(seconds),
           "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    script.unlink()
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


# ---- report ------------------------------------------------------------------------------------------------------
def print_table(results: dict[str, dict]) -> None:
    base, rep = results["baseline"], results["replicated"]
    print(f"\n{'kind':8} {'setup':11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'timeouts':>9}")
    for kind in ("reports", "locate", "tiles"):
        for label, r in (("baseline", base), ("replicated", rep)):
            k = r[kind]
            print(f"{kind:8} {label:11} {k['per_s']:8.1f} {k['p50_ms']:8.1f} {k['p99_ms']:8.1f} {k['errors']:7d} "
                  f"{k['timeouts']:9d}")  # fmt: skip
        ratio = rep[kind]["per_s"] / base[kind]["per_s"] if base[kind]["per_s"] else float("nan")
        print(f"{kind:8} {'ratio':11} {ratio:8.2f}  (replicated / baseline, same concurrency and duration)")
    for label, r in (("baseline", base), ("replicated", rep)):
        print(f"reports acknowledged {r['reports']['ok']}, stored {r['reports']['stored']} ({label})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", type=int, default=500_000, help="grids in the store (500k: a province)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per setup")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reports", type=int, default=8, help="closed-loop report clients")
    ap.add_argument("--locate", type=int, default=8, help="closed-loop locate clients")
    ap.add_argument("--tiles", type=int, default=16, help="closed-loop tile clients")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "province_load.json")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database = "geogrid_province"
    primary = replica = bouncer = None
    try:
        primary = start_cluster(PRIMARY_PORT, SERVER_OPTIONS)
        print(f"[setup] primary cluster on {PRIMARY_PORT}; building {args.grids:,} grids", flush=True)
        province = build_province(primary.url(database), args.grids, progress=lambda m: print(m, flush=True))
        replica = start_replica(primary, options=SERVER_OPTIONS)
        bouncer = start_bouncer("127.0.0.1", PRIMARY_PORT, pool=40)
        print(f"[setup] replica on {replica.port}, pgbouncer (transaction mode) on {bouncer.port}", flush=True)
        results = {"grids": args.grids, "duration_s": args.duration, "workers": args.workers,
                   "mix": {"reports": args.reports, "locate": args.locate, "tiles": args.tiles}}  # fmt: skip
        results["baseline"] = measure("baseline", {}, province, args)
        replicated = {
            "GEOGRID_DATABASE_URL": bouncer.url(database),
            "GEOGRID_DB_POOLER": "transaction",
            "GEOGRID_LISTEN_DATABASE_URL": primary.url(database),
            "GEOGRID_READ_DATABASE_URLS": replica.url(database),
        }
        results["replicated"] = measure("replicated", replicated, province, args)
        print("[covers] pgbench: single-point ST_Covers on the replica, 4 connections, 10 s …", flush=True)
        results["replica_covers_per_s"] = round(pgbench_covers(replica.port, database, province), 1)
        print_table(results)
        print(f"replica ST_Covers lookups/s (pgbench, 4 connections): {results['replica_covers_per_s']}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(f"figures written to {args.out}")
        bad = sum(results[s][k]["errors"] + results[s][k]["timeouts"] for s in ("baseline", "replicated")
                  for k in ("reports", "locate", "tiles"))  # fmt: skip
        return 1 if bad else 0
    finally:
        get_engine.cache_clear()
        if bouncer is not None:
            stop_bouncer(bouncer)
        for cluster in (replica, primary):
            if cluster is not None:
                destroy(cluster)


if __name__ == "__main__":
    sys.exit(main())
