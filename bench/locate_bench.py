"""Locate benchmark: single-point HTTP (wrk), batch HTTP, and PostGIS one-query-per-point, on the same data.

Builds a synthetic district in a scratch database (a jittered lattice of grids whose shared borders are wiggly
polylines, ~``--edge-vertices`` per side like road-following boundaries), publishes it as two layers, starts
``uvicorn api.main:app`` on loopback with ``--workers`` processes, then measures in one run:

1. single point:  ``wrk -t2 -c32 -d<duration>s`` on ``GET /v1/locate`` over 1,000 random points (Lua script);
2. batch:         ``POST /v1/locate/batch`` with ``--batch-points`` [lon, lat] pairs, JSON in and out; points/s
                  counted from the first byte sent to the last byte received, and again including client-side
                  ``orjson`` encode/decode;
3. baselines at the same work and concurrency: ``pgbench -M prepared`` running one ``ST_Covers`` query per
                  transaction (GiST index) with as many clients as wrk has connections, and, for batch, one set-based
                  SQL query (``LEFT JOIN LATERAL … ST_Covers``) over the same points in a table;
4. the index build (time and RSS growth of the process) on the same store.

and prints ratios against the baselines, wrk's non-2xx and socket errors. ``--store URL`` runs on an existing
store made by ``bench/big_store.py`` (e.g. 500k grids) instead of generating one. The machine is shared by wrk,
uvicorn and Postgres: read figures as relative. Usage::

    python bench/locate_bench.py --workers 2 --duration 10
    python bench/locate_bench.py --cells 60 --workers 1,2   # 3,600 grids; one wrk run per worker count
    python bench/locate_bench.py --store postgresql://…/geogrid_big500k --workers 1
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import orjson
import psycopg2
import shapely
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import free_port, start_uvicorn  # noqa: E402

from geogrid.settings import database_url  # noqa: E402
from geogrid.store.db import drop_database, get_engine, init_store, sa_url  # noqa: E402

X0, Y0 = 106.60, 26.50


def lattice_grids(cells: int, step: float, edge_vertices: int, seed: int = 1) -> list[shapely.Polygon]:
    """cells × cells polygons tiling a square; neighbours share identical wiggly border polylines."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(X0 + step * np.arange(cells + 1), Y0 + step * np.arange(cells + 1), indexing="ij")
    v = np.stack([xs, ys], axis=-1)
    v[1:cells, 1:cells] += rng.uniform(-0.25, 0.25, size=(cells - 1, cells - 1, 2)) * step
    t = np.linspace(0, 1, edge_vertices + 2)[1:-1, None]

    def edge(a: np.ndarray, b: np.ndarray, border: bool) -> np.ndarray:
        pts = a + t * (b - a)
        if not border:
            normal = np.array([-(b - a)[1], (b - a)[0]])
            pts = pts + np.sin(t * np.pi * rng.integers(1, 4)) * 0.04 * normal * rng.uniform(-1, 1)
        return np.vstack([a, pts])

    horiz = {(i, j): edge(v[i, j], v[i + 1, j], j in (0, cells)) for i in range(cells) for j in range(cells + 1)}
    vert = {(i, j): edge(v[i, j], v[i, j + 1], i in (0, cells)) for i in range(cells + 1) for j in range(cells)}
    polys = []
    for i in range(cells):
        for j in range(cells):
            ring = np.vstack(
                [
                    horiz[(i, j)],
                    vert[(i + 1, j)],
                    np.vstack([horiz[(i, j + 1)], v[i + 1, j + 1]])[::-1][:-1],
                    np.vstack([vert[(i, j)], v[i, j + 1]])[::-1][:-1],
                ]
            )
            polys.append(shapely.Polygon(ring))
    return polys


def load(url: str, cells: int, block: int, edge_vertices: int) -> tuple[int, tuple[float, float, float, float]]:
    """Fill the scratch store: district, streets, communities (block × block grids), two published layers."""
    step = 0.004
    grids = lattice_grids(cells, step, edge_vertices)
    comm_of = [(i // block, j // block) for i in range(cells) for j in range(cells)]
    n_comm = (cells + block - 1) // block
    engine = get_engine(url)
    with engine.begin() as conn:
        district = shapely.union_all(grids)

        def add(level: str, code: str, geom, parent: int | None) -> int:
            geom = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
            return conn.execute(
                text(
                    "INSERT INTO admin_area (level, code, name, parent_id, geom) VALUES "
                    "(:l, :c, :n, :p, ST_GeomFromText(:w, 4490)) RETURNING id"
                ),
                {"l": level, "c": code, "n": f"{level}-{code}", "p": parent, "w": geom.wkt},
            ).scalar_one()

        did = add("district", "520199", district, None)
        comm_ids, comm_codes = {}, {}
        half = max(1, n_comm // 2)
        for si in range(2):
            members = [k for k in range(len(grids)) if (comm_of[k][0] >= half) == bool(si)]
            sid = add("street", f"520199{si + 1:03d}", shapely.union_all([grids[k] for k in members]), did)
            for ci in range(n_comm):
                for cj in range(n_comm):
                    if (ci >= half) != bool(si):
                        continue
                    ks = [k for k in members if comm_of[k] == (ci, cj)]
                    code = f"520199{si + 1:03d}{ci * n_comm + cj + 1:03d}"
                    comm_codes[(ci, cj)] = code
                    comm_ids[(ci, cj)] = add("community", code, shapely.union_all([grids[k] for k in ks]), sid)
        for layer in ("responsibility", "selfgov"):
            lid = conn.execute(text("INSERT INTO grid_layer (name) VALUES (:n) RETURNING id"), {"n": layer}).scalar()
            pid = conn.execute(
                text(
                    "INSERT INTO plan (name, layer_id, version, status, valid_from) "
                    "VALUES (:n, :l, 1, 'published', now()) RETURNING id"
                ),
                {"n": f"{layer}-bench", "l": lid},
            ).scalar()
            if layer == "responsibility":
                seq: dict[tuple[int, int], int] = {}
                rows = []
                for k, poly in enumerate(grids):
                    c = comm_of[k]
                    seq[c] = seq.get(c, 0) + 1
                    rows.append((f"{comm_codes[c]}{seq[c]:03d}", comm_ids[c], poly))
            else:
                rows = [
                    (comm_codes[c] + "900", comm_ids[c], shapely.union_all([grids[k] for k in range(len(grids))
                                                                            if comm_of[k] == c]))
                    for c in comm_codes
                ]  # fmt: skip
            for code, cid, poly in rows:
                conn.execute(
                    text(
                        "INSERT INTO grid (plan_id, code, tier, community_id, geom) "
                        "VALUES (:p, :c, 'A', :cid, ST_Multi(ST_GeomFromText(:w, 4490)))"
                    ),
                    {"p": pid, "c": code, "cid": cid, "w": poly.wkt},
                )
        conn.execute(text("ANALYZE"))
    return len(grids), tuple(shapely.total_bounds(district))  # type: ignore[return-value]


def existing(url: str) -> tuple[int, tuple[float, float, float, float]]:
    """Grid count and bounds of a store made elsewhere (``bench/big_store.py``)."""
    conn = psycopg2.connect(_dsn(url))
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM grid g JOIN plan p ON p.id = g.plan_id WHERE p.status = 'published'")
        n = cur.fetchone()[0]
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM grid) s")
        bounds = cur.fetchone()
    conn.close()
    return n, bounds


def start_server(url: str, workers: int, port: int) -> subprocess.Popen:
    """The API on ``url``, returned once a locate answers (every worker builds its index at start)."""
    env = {"GEOGRID_DATABASE_URL": url, "GEOGRID_LOCATE_POLL_SECONDS": "3600"}
    return start_uvicorn(env, port, workers, probe="/v1/locate?lon=106.6&lat=26.5")


def run_wrk(port: int, points: np.ndarray, duration: int, threads: int, connections: int) -> dict:
    paths = ",".join(f'"/v1/locate?lon={x:.7f}&lat={y:.7f}"' for x, y in points[:1000])
    script = (
        f"local paths = {{{paths}}}\n"
        "request = function()\n  return wrk.format('GET', paths[math.random(#paths)])\nend\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", f.name]
        out = subprocess.run(cmd + [f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out.stdout, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out.stdout, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out.stdout)
    return {
        "socket": "/".join(sock.groups()) if sock else "0/0/0/0",
        "rps": rps,
        "p50": p50.group(1) if p50 else "?",
        "p99": p99.group(1) if p99 else "?",
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def run_batch(port: int, points: np.ndarray, repeats: int) -> dict:
    """Median and best of ``repeats`` requests; the client pauses its GC while encoding/decoding, as the server does
    (100,000 small containers otherwise trigger ~150 full heap scans in the client)."""
    wire, total = [], []
    for _ in range(repeats):
        gc.disable()
        t0 = time.perf_counter()
        body = orjson.dumps(points.tolist())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        t1 = time.perf_counter()
        conn.request("POST", "/v1/locate/batch", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        t2 = time.perf_counter()
        parsed = orjson.loads(data)
        t3 = time.perf_counter()
        assert resp.status == 200 and parsed["count"] == len(points), data[:300]
        gc.enable()
        wire.append(t2 - t1)
        total.append((t3 - t2) + (t1 - t0) + (t2 - t1))
        conn.close()
    n = len(points)
    return {
        "wire_pps": n / statistics.median(wire),
        "total_pps": n / statistics.median(total),
        "best_wire_pps": n / min(wire),
        "bytes_out": len(data),
        "results": parsed["results"],
    }


_COVERS = (
    "SELECT g.code FROM grid g JOIN plan p ON p.id = g.plan_id JOIN grid_layer l ON l.id = p.layer_id "
    "WHERE p.status = 'published' AND l.name = 'responsibility' AND ST_Covers(g.geom, {point}) "
    'ORDER BY g.code COLLATE "C" LIMIT 1'
)


def _dsn(url: str) -> str:
    return make_url(sa_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def load_points(url: str, points: np.ndarray) -> None:
    """The benchmark points as a table (for pgbench and the set-based query)."""
    conn = psycopg2.connect(_dsn(url))
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_point")
        cur.execute("CREATE TABLE bench_point (i int PRIMARY KEY, x float8, y float8, geom geometry(Point, 4490))")
        buf = "".join(f"{i + 1}\t{x!r}\t{y!r}\n" for i, (x, y) in enumerate(points.tolist()))
        cur.copy_expert("COPY bench_point (i, x, y) FROM STDIN", __import__("io").StringIO(buf))
        cur.execute("UPDATE bench_point SET geom = ST_SetSRID(ST_MakePoint(x, y), 4490)")
        cur.execute("ANALYZE bench_point")
    conn.close()


def run_postgis(url: str, points: np.ndarray) -> list:
    """Answers of PostGIS for the first points (the agreement check)."""
    conn = psycopg2.connect(_dsn(url))
    cur = conn.cursor()
    sql = _COVERS.format(point="ST_SetSRID(ST_MakePoint(%s, %s), 4490)")
    answers = []
    for x, y in points:
        cur.execute(sql, (float(x), float(y)))
        row = cur.fetchone()
        answers.append(row[0] if row else None)
    conn.close()
    return answers


def run_pgbench(url: str, n_points: int, clients: int, duration: int) -> dict:
    """One ST_Covers query per transaction, prepared, ``clients`` connections: PostGIS at the API's concurrency."""
    point = "(SELECT geom FROM bench_point WHERE i = :i)"
    script = f"\\set i random(1, {min(n_points, 1000)})\n{_COVERS.format(point=point)};\n"
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    u = make_url(sa_url(url))
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(duration)]
    cmd += ["-f", f.name, "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    try:
        out = subprocess.run([*cmd, u.database], capture_output=True, text=True, timeout=duration + 120)
    finally:
        os.unlink(f.name)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    if tps is None:
        raise SystemExit(f"pgbench failed: {out.stderr[-1000:]}")
    return {"tps": float(tps.group(1)), "lat_ms": float(lat.group(1)) if lat else None,
            "failed": int(failed.group(1)) if failed else 0}  # fmt: skip


def run_set_query(url: str) -> float:
    """Points/s of one set-based query answering every point in ``bench_point`` (the batch baseline)."""
    conn = psycopg2.connect(_dsn(url))
    cur = conn.cursor()
    sql = (
        "SELECT b.i, c.code FROM bench_point b LEFT JOIN LATERAL ("
        + _COVERS.format(point="b.geom")
        + ") c ON true ORDER BY b.i"
    )
    t0 = time.perf_counter()
    cur.execute(sql)
    n = len(cur.fetchall())
    elapsed = time.perf_counter() - t0
    conn.close()
    return n / elapsed


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def serve_and_measure(url: str, workers: int, pts, pg_answers: list, pg_tps: float, set_pps: float, args) -> None:
    """One uvicorn with ``workers`` processes: batch, agreement with PostGIS, single points under wrk."""
    port = free_port()
    proc = start_server(url, workers, port)
    try:
        batch = run_batch(port, pts, args.batch_repeats)
        agree = sum(r["grid"] == a for r, a in zip(batch["results"], pg_answers, strict=False))
        print(f"\n== uvicorn --workers {workers} (loopback; wrk, uvicorn and PostgreSQL share {os.cpu_count()} "
              "cores) ==")  # fmt: skip
        print(f"answers equal to PostGIS on {agree:,}/{len(pg_answers):,} baseline points")
        wrk = run_wrk(port, pts, args.duration, args.threads, args.connections)
        print(f"single point  wrk -t{args.threads} -c{args.connections} -d{args.duration}s: "
              f"{wrk['rps']:,.0f} req/s (p50 {wrk['p50']}, p99 {wrk['p99']}, non-2xx {wrk['non2xx']}, "
              f"socket errors c/r/w/t {wrk['socket']})  = {wrk['rps'] / pg_tps:.2f}x pgbench at the "
              "same concurrency")  # fmt: skip
        print(f"batch {len(pts):,} points: {batch['wire_pps']:,.0f} points/s request→response "
              f"(best {batch['best_wire_pps']:,.0f}), {batch['total_pps']:,.0f} points/s incl. client "
              f"encode/decode; {batch['bytes_out'] / 1e6:.1f} MB out  = {batch['wire_pps'] / set_pps:.1f}x "
              "the set-based query")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="scratch database URL (default: a new geogrid_bench_* next to GEOGRID_DATABASE_URL)")
    ap.add_argument("--cells", type=int, default=40, help="grids per side (40 → 1,600 grids)")
    ap.add_argument("--block", type=int, default=5, help="grids per community side")
    ap.add_argument("--edge-vertices", type=int, default=12, help="extra vertices on each grid side")
    ap.add_argument("--workers", default="2", help="uvicorn worker counts to try, comma-separated")
    ap.add_argument("--duration", type=int, default=10, help="wrk seconds per run (bounded)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--batch-points", type=int, default=100_000)
    ap.add_argument("--batch-repeats", type=int, default=5)
    ap.add_argument("--pg-points", type=int, default=5_000, help="points for the PostGIS baseline")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--store", help="use this existing store (bench/big_store.py) instead of generating one")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")

    url = (
        args.store
        or args.url
        or make_url(sa_url(database_url()))
        .set(database=f"geogrid_bench_locate_{uuid.uuid4().hex[:8]}")
        .render_as_string(hide_password=False)
    )
    if not args.store:
        init_store(url)
    try:
        t0 = time.perf_counter()
        if args.store:
            n_grids, (x0, y0, x1, y1) = existing(url)
        else:
            n_grids, (x0, y0, x1, y1) = load(url, args.cells, args.block, args.edge_vertices)
        print(f"data: {n_grids} grids, ready in {time.perf_counter() - t0:.1f} s")
        rng = np.random.default_rng(42)
        pad = 0.02 * (x1 - x0)  # ~4 % of points fall outside: the outside path is measured too
        pts = np.column_stack([rng.uniform(x0 - pad, x1 + pad, args.batch_points),
                               rng.uniform(y0 - pad, y1 + pad, args.batch_points)])  # fmt: skip

        pg_answers = run_postgis(url, pts[: args.pg_points])
        load_points(url, pts)
        pgb = run_pgbench(url, len(pts), args.connections, args.duration)
        print(f"PostGIS pgbench -M prepared -c{args.connections} -T{args.duration}, one ST_Covers per transaction: "
              f"{pgb['tps']:,.0f} tps (latency avg {pgb['lat_ms']} ms, failed {pgb['failed']})")  # fmt: skip
        set_pps = run_set_query(url)
        print(f"PostGIS one set-based query over {len(pts):,} points: {set_pps:,.0f} points/s")

        from geogrid.routing.index import build_snapshot

        rss0, t0 = _rss_mb(), time.perf_counter()
        snap = build_snapshot(url)
        print(f"index build: {time.perf_counter() - t0:.1f} s, process RSS +{_rss_mb() - rss0:,.0f} MB")
        t0 = time.perf_counter()
        for x, y in pts[:20_000].tolist():
            snap.locate_one(x, y)
        print(f"in-process single point (locate_one): {1e6 * (time.perf_counter() - t0) / 20_000:.1f} µs per point")
        t0 = time.perf_counter()
        snap.batch_json(pts[:, 0].copy(), pts[:, 1].copy())
        inproc = len(pts) / (time.perf_counter() - t0)
        print(f"in-process index, batch JSON built (no HTTP): {inproc:,.0f} points/s")

        for workers in [int(w) for w in args.workers.split(",")]:
            serve_and_measure(url, workers, pts, pg_answers, pgb["tps"], set_pps, args)
    finally:
        get_engine.cache_clear()
        if not args.keep and not args.store:
            drop_database(url)


if __name__ == "__main__":
    main()
