"""Intake benchmark: ``POST /v1/reports`` under wrk, against two baselines measured in the same run.

Builds a scratch store (a district of two communities and four published grids, routing rules, one reporter
account), starts ``uvicorn api.main:app`` on 127.0.0.1 only, then measures with the same wrk settings:

1. intake:    ``POST /v1/reports`` with a Lua script: JSON body at a random point, a unique ``Idempotency-Key`` per
              request (validate, locate, route, duplicate check, INSERT … ON CONFLICT, history row, commit);
              cases/s is counted in the database, p50/p99 come from ``wrk --latency``;
2. baseline A: ``GET /healthz`` (one trivial query per request: the framework + pool floor);
3. baseline B: a bare single-row ``INSERT`` + ``COMMIT`` loop through psycopg2 on one connection (the database's
              per-transaction floor, no HTTP);

and prints the ratios. wrk, uvicorn and PostgreSQL share the machine, so read the figures as relative. Usage::

    python bench/intake_bench.py --duration 10 --connections 8 --workers 1
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg2
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geogrid.cases.models import Case  # noqa: E402
from geogrid.routing.catalogue import import_catalogue  # noqa: E402
from geogrid.settings import database_url  # noqa: E402
from geogrid.store.accounts import create_account  # noqa: E402
from geogrid.store.db import drop_database, get_engine, init_store, sa_url, session_scope  # noqa: E402
from geogrid.store.models import AdminArea, Grid, GridLayer, Plan, Unit  # noqa: E402

W, S, E, N = 114.30, 30.58, 114.32, 30.60
LUA = """
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
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
"""


def ewkt(geom) -> str:
    return f"SRID=4490;{MultiPolygon([geom]).wkt}"


def seed(url: str) -> str:
    """The scratch jurisdiction; returns a reporter's API key."""
    mid = (W + E) / 2
    with session_scope(url) as session:
        ids: dict[str, int] = {}
        specs = [
            ("district", "420102", "江岸区", box(W, S, E, N), None),
            ("street", "420102001", "大智街道", box(W, S, E, N), "420102"),
            ("community", "420102001001", "西社区", box(W, S, mid, N), "420102001"),
            ("community", "420102001002", "东社区", box(mid, S, E, N), "420102001"),
        ]
        for level, code, name, geom, parent in specs:
            area = AdminArea(level=level, code=code, name=name, geom=ewkt(geom), parent_id=ids.get(parent))
            session.add(area)
            session.flush()
            ids[code] = area.id
            session.add(Unit(code=f"u-{code}", name=f"{name}工作站", kind="territorial", admin_area_id=area.id))
        layer = GridLayer(name="responsibility")
        session.add(layer)
        session.flush()
        plan = Plan(name="bench-v1", layer_id=layer.id, version=1, status="published")
        session.add(plan)
        session.flush()
        for comm, x0, x1 in (("420102001001", W, mid), ("420102001002", mid, E)):
            for seq, (y0, y1) in enumerate((((S + N) / 2, N), (S, (S + N) / 2)), start=1):
                session.add(
                    Grid(
                        plan_id=plan.id,
                        code=f"{comm}{seq:03d}",
                        tier="A",
                        community_id=ids[comm],
                        geom=ewkt(box(x0, y0, x1, y1)),
                    )
                )
        import_catalogue(
            session,
            {
                "rules": [{"category": "event:01", "name": "市容环境", "territorial_level": "community"}],
                "time_limits": [{"category": "event:0102", "urgency": "normal", "value": 4, "unit": "hours"}],
            },
            "bench",
        )
        _, key = create_account(session, "bench-reporter", "reporter")
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(url: str, port: int, workers: int, media: str) -> subprocess.Popen:
    env = {**os.environ, "GEOGRID_DATABASE_URL": url, "GEOGRID_MEDIA_DIR": media}
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("uvicorn did not come up")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def run_wrk(url: str, duration: int, connections: int, threads: int, script: str | None = None) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    pct = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": pct.get("50"),
        "p99_ms": pct.get("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def bare_insert(url: str, seconds: float) -> dict:
    """Single-row INSERT + COMMIT on one connection for ``seconds``: the per-transaction floor of the database."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("CREATE TABLE bench_bare (id serial PRIMARY KEY, k text UNIQUE, body jsonb, at timestamptz)")
    conn.commit()
    lat: list[float] = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        cur.execute("INSERT INTO bench_bare (k, body, at) VALUES (%s, %s, now())", (f"k{i}", '{"lon": 114.3}'))
        conn.commit()
        lat.append((time.perf_counter() - t) * 1000)
        i += 1
    conn.close()
    lat.sort()
    return {"rps": i / seconds, "p50_ms": statistics.median(lat), "p99_ms": lat[int(0.99 * (len(lat) - 1))]}


def count_cases(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Case))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (bounded to 60)")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = ap.parse_args()
    duration = max(1, min(args.duration, 60))
    url = make_url(sa_url(database_url())).set(database=f"geogrid_bench_intake_{uuid.uuid4().hex[:8]}")
    url = url.render_as_string(hide_password=False)
    init_store(url)
    proc = None
    try:
        key = seed(url)
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_api(url, port, args.workers, str(Path(tmp) / "media"))
            script = Path(tmp) / "report.lua"
            script.write_text(LUA.format(W=W, S=S, DX=E - W, DY=N - S, KEY=key), encoding="utf-8")
            base = f"http://127.0.0.1:{port}"
            run_wrk(base + "/v1/reports", 2, args.connections, args.threads, str(script))  # warm-up
            health = run_wrk(base + "/healthz", duration, args.connections, args.threads)
            before = count_cases(url)
            t0 = time.perf_counter()
            intake = run_wrk(base + "/v1/reports", duration, args.connections, args.threads, str(script))
            elapsed = time.perf_counter() - t0
            stored = count_cases(url) - before
        bare = bare_insert(url, duration)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        get_engine.cache_clear()
        drop_database(url)

    cases_per_s = stored / duration
    setup = f"wrk -t{args.threads} -c{args.connections}, uvicorn workers={args.workers}"
    print(f"intake bench: {duration}s per run, {setup}")
    print(f"{'run':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'POST /v1/reports (intake)':<34}{intake['rps']:>10.1f}{intake['p50_ms']:>10.2f}{intake['p99_ms']:>10.2f}")
    print(f"{'baseline A: GET /healthz':<34}{health['rps']:>10.1f}{health['p50_ms']:>10.2f}{health['p99_ms']:>10.2f}")
    print(f"{'baseline B: bare INSERT+COMMIT':<34}{bare['rps']:>10.1f}{bare['p50_ms']:>10.2f}{bare['p99_ms']:>10.2f}")
    print(f"cases stored: {stored} in {elapsed:.1f}s of wrk → {cases_per_s:.1f} cases/s")
    print(f"wrk requests {intake['requests']}, non-2xx {intake['non2xx']}")
    print(f"ratio intake / healthz      = {intake['rps'] / health['rps']:.3f}")
    print(f"ratio intake / bare INSERT  = {cases_per_s / bare['rps']:.3f}")
    print(f"ratio p50 intake / healthz  = {intake['p50_ms'] / health['p50_ms']:.2f}")


if __name__ == "__main__":
    main()
