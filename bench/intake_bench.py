"""Intake benchmark at city scale: ``POST /v1/reports`` under wrk on stores of 2k, 100k and 500k grids.

For every store size (``bench/big_store.py``), uvicorn worker count and wrk connection count, in the same run and on
the same workers:

1. baseline: ``GET /healthz`` (framework + one trivial query: the floor every request pays);
2. intake: ``POST /v1/reports`` from a Lua script: JSON body at a random point of the store, a unique
   ``Idempotency-Key`` per request (validate, locate, route, duplicate check, one INSERT statement);

and prints req/s, p50/p99, non-2xx, wrk's socket errors (connect/read/write/timeout), the intake/healthz ratio,
the throughput ratio against the smallest store, and an exactly-once check: every acknowledged (201) report is in
the store once (``stored`` may exceed ``acked`` by the requests wrk cut off in flight, never by more than the
connections, and no key is stored twice). Workers are warmed up (index built: the time is printed) before timing.

    python bench/intake_bench.py --grids 2000,100000,500000 --connections 8,32,200 --workers 1,2 --duration 30

Stores are generated once per size into ``<db>_big<N>`` databases next to ``GEOGRID_DATABASE_URL`` and kept
(``--fresh`` regenerates them); each run first deletes the previous run's cases.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg2
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import free_port, start_uvicorn  # noqa: E402
from big_store import STEP, build  # noqa: E402

from geogrid.settings import database_url  # noqa: E402
from geogrid.store.db import sa_url  # noqa: E402

LUA = """
local counter = 0
local threads = {{}}
acked = 0
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 1000 + tid)
  salt = tostring(math.random(1, 1000000000))
end
function request()
  counter = counter + 1
  local lon = {W} + math.random() * {DX}
  local lat = {S} + math.random() * {DY}
  local body = string.format('{{"lon":%.7f,"lat":%.7f,"category":"event:0102","description":"bench %d"}}',
                             lon, lat, counter)
  local headers = {{["Content-Type"] = "application/json", ["X-API-Key"] = "{KEY}",
                   ["Idempotency-Key"] = "bench-" .. salt .. "-" .. tid .. "-" .. counter}}
  return wrk.format("POST", "/v1/reports", headers, body)
end
function response(status, headers, body)
  if status == 201 then acked = acked + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("acked") end
  io.write(string.format("ACKED %d\\n", total))
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def dsn(url: str) -> str:
    return make_url(sa_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def sql(url: str, query: str) -> list[tuple]:
    conn = psycopg2.connect(dsn(url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def start_api(url: str, port: int, workers: int, media: str) -> subprocess.Popen:
    """The API on ``url`` as the intake runs need it: larger pools, a deep backlog, rate limits off (capacity, not
    abuse policy: one key sending hundreds of reports a second is what the per-key token bucket answers 429)."""
    env = {"GEOGRID_DATABASE_URL": url, "GEOGRID_MEDIA_DIR": media, "GEOGRID_EDGE_RATE_LIMITS": "off"}
    env |= {k: os.environ.get(k, v) for k, v in (("GEOGRID_DB_POOL_SIZE", "10"), ("GEOGRID_DB_MAX_OVERFLOW", "20"))}
    return start_uvicorn(env, port, workers, extra_args=("--backlog", "4096"))


def warm(base: str, workers: int, point: tuple[float, float], timeout: float = 900) -> float:
    """Until every worker answers a locate (each builds its index at start); returns the seconds it took."""
    t0 = time.monotonic()
    with httpx.Client(timeout=timeout) as client:
        for _ in range(8 * workers):  # new connections land on the workers in turn
            with httpx.Client(timeout=timeout) as one:
                r = one.get(base + "/v1/locate", params={"lon": point[0], "lat": point[1]})
                r.raise_for_status()
        client.get(base + "/healthz")
    return time.monotonic() - t0


def run_wrk(url: str, duration: int, connections: int, script: str | None = None) -> dict:
    threads = min(4, connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=duration + 120).stdout
    pct = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    acked = re.search(r"ACKED (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": pct.get("50"),
        "p99_ms": pct.get("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket": tuple(int(v) for v in sock.groups()) if sock else (0, 0, 0, 0),
        "acked": int(acked.group(1)) if acked else None,
    }


def store_url(grids: int, fresh: bool) -> tuple[str, str, tuple[float, float, float, float]]:
    """(url, reporter key, bounds) of the store of ``grids`` grids, generated if missing."""
    base = make_url(sa_url(database_url()))
    url = base.set(database=f"{base.database}_big{grids // 1000}k").render_as_string(hide_password=False)
    exists = False
    with contextlib.suppress(psycopg2.Error):
        exists = bool(sql(url, "SELECT count(*) FROM grid")[0][0])
    if fresh or not exists or not sql(url, "SELECT 1 FROM account WHERE name = 'bench-intake'"):
        if fresh or not exists:
            build(url, grids)
        from geogrid.store.accounts import create_account
        from geogrid.store.db import session_scope

        sql(url, "DELETE FROM account WHERE name = 'bench-intake'")
        with session_scope(url) as session:
            _, key = create_account(session, "bench-intake", "reporter")
        Path(tempfile.gettempdir(), f"geogrid-bench-key-{grids}").write_text(key)
    key = Path(tempfile.gettempdir(), f"geogrid-bench-key-{grids}").read_text()
    xmin, ymin = sql(url, "SELECT ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)) FROM admin_area")[0]
    xmax, ymax = sql(url, "SELECT ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)) FROM admin_area")[0]
    return url, key, (xmin + STEP, ymin + STEP, xmax - STEP, ymax - STEP)


def one_store(grids: int, args, rows: list[dict]) -> None:
    url, key, (w, s, e, n) = store_url(grids, args.fresh)
    for workers in args.workers:
        sql(url, "TRUNCATE case_report CASCADE")
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_api(url, port, workers, str(Path(tmp) / "media"))
            try:
                base = f"http://127.0.0.1:{port}"
                warm_s = warm(base, workers, ((w + e) / 2, (s + n) / 2))
                rss = _worker_rss(proc.pid)
                script = Path(tmp) / "report.lua"
                script.write_text(LUA.format(W=w, S=s, DX=e - w, DY=n - s, KEY=key), encoding="utf-8")
                run_wrk(base + "/v1/reports", 2, 8, str(script))  # warm the pools
                for conns in args.connections:
                    health = run_wrk(base + "/healthz", args.duration, conns)
                    before = sql(url, "SELECT count(*) FROM case_report")[0][0]
                    intake = run_wrk(base + "/v1/reports", args.duration, conns, str(script))
                    time.sleep(1)
                    stored = sql(url, "SELECT count(*) FROM case_report")[0][0] - before
                    twice = sql(url, "SELECT count(*) FROM (SELECT 1 FROM case_report GROUP BY reporter_account_id, "
                                "idempotency_key HAVING count(*) > 1) d")[0][0]  # fmt: skip
                    row = {"grids": grids, "workers": workers, "conns": conns, "warm_s": warm_s, "rss_mb": rss}
                    row |= {"health": health, "intake": intake, "stored": stored, "twice": twice}
                    rows.append(row)
                    _print_row(row)
            finally:
                proc.terminate()
                proc.wait(60)


def _worker_rss(parent: int) -> list[int]:
    """RSS (MB) of the uvicorn worker processes (children of the supervisor, or the process itself)."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True).stdout.split("\n")
    procs = [tuple(int(v) for v in line.split()) for line in out if line.strip()]
    kids = [rss for pid, ppid, rss in procs if ppid == parent]
    own = [rss for pid, _, rss in procs if pid == parent]
    return [r // 1024 for r in (kids or own)]


def _print_row(r: dict) -> None:
    h, i = r["health"], r["intake"]
    exact = (
        "ok" if r["twice"] == 0 and i["acked"] is not None and 0 <= r["stored"] - i["acked"] <= r["conns"] else "FAIL"
    )
    print(
        f"{r['grids']:>7} {r['workers']:>2}w {r['conns']:>4}c | healthz {h['rps']:8.1f}/s p99 {h['p99_ms']:8.1f} "
        f"| intake {i['rps']:7.1f}/s p50 {i['p50_ms']:7.1f} p99 {i['p99_ms']:7.1f} ms non2xx {i['non2xx']} "
        f"sock c/r/w/t {'/'.join(map(str, i['socket']))} | acked {i['acked']} stored {r['stored']} exactly-once "
        f"{exact} | intake/healthz {i['rps'] / h['rps']:.2f} | warm {r['warm_s']:.0f}s rss {r['rss_mb']} MB",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", default="2000,100000,500000", help="store sizes (comma-separated)")
    ap.add_argument("--connections", default="8,32,200")
    ap.add_argument("--workers", default="1,2", help="uvicorn worker counts")
    ap.add_argument("--duration", type=int, default=30, help="seconds per wrk run")
    ap.add_argument("--fresh", action="store_true", help="regenerate the stores")
    args = ap.parse_args()
    args.connections = [int(v) for v in args.connections.split(",")]
    args.workers = [int(v) for v in args.workers.split(",")]
    rows: list[dict] = []
    for grids in [int(v) for v in args.grids.split(",")]:
        one_store(grids, args, rows)
    smallest = min(r["grids"] for r in rows)
    print("\nthroughput vs the smallest store (same workers, same connections):")
    for r in rows:
        key = (r["workers"], r["conns"])
        same = [x for x in rows if x["grids"] == smallest and (x["workers"], x["conns"]) == key]
        ratio = r["intake"]["rps"] / same[0]["intake"]["rps"] if same else float("nan")
        print(f"  {r['grids']:>7} grids {r['workers']}w {r['conns']:>4}c: {ratio:.2f}x")


if __name__ == "__main__":
    main()
