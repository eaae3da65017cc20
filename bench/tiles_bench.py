"""Tiles and features: geogrid against TiPg, serving the same published plan from the same database, in one run.

What it measures (sequential keep-alive HTTP on loopback, one uvicorn worker each, bounded request counts):
  * cold tiles/s, viewport: distinct z14 tiles of a square window at the centre, as a panning map asks for them
  * cold tiles/s, isolated: one random tile (z14-16) from every other metatile, away from the viewport, so no
    request profits from a neighbour's render (the worst case for geogrid's metatiles)
  * warm tiles/s: the same tiles asked again and again (geogrid answers from its cache; TiPg has none)
  * items-with-bbox/s: ``/items?bbox=…&limit=100`` over random ~1 km boxes
Both servers get identical request lists; a sample of tiles is decoded from both to check they carry the same grids.
Cold passes start right after a NOTIFY has emptied geogrid's cache (what a publication does); PostgreSQL's page cache
is warm for both servers. Each measure runs ``--repeat`` times alternating the servers; the table gives the best rate
of each and the median of the per-round ratios (rounds run the two servers back to back, under the same load).

The plan: the faces of the Wuhan street network (neatnet-simplified GeoParquet, EPSG:32650) as grids, published
through ``geogrid.store.plans``. TiPg (``pip install -e '.[bench]'``; it only adds packages to the project's
environment) runs as its own uvicorn process on another loopback port; ``--tipg-python`` (env TIPG_PYTHON) picks
another interpreter should it ever need a separate venv.

    python bench/tiles_bench.py --data ../shared/data/wuhan
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geogrid.maps.tiles import metatile_size  # noqa: E402
from geogrid.settings import DEFAULT_DATABASE_URL  # noqa: E402
from geogrid.store.db import drop_database, init_store, sa_url, session_scope  # noqa: E402
from geogrid.store.plans import publish_plan, save_draft_plan  # noqa: E402

LAYER, PLAN = "bench", "wuhan-blocks"


def load_grids(data_dir: Path, max_grids: int) -> gpd.GeoDataFrame:
    """City blocks bounded by road centrelines: the polygonised street network, small slivers dropped."""
    roads = gpd.read_parquet(data_dir / "wuhan_8989_simplified.parquet")
    lines = shapely.line_merge(shapely.union_all(roads.geometry.values))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    blocks = gpd.GeoDataFrame(geometry=faces, crs=roads.crs)
    blocks = blocks[blocks.area > 5_000]
    centre = blocks.union_all().centroid
    blocks = blocks.assign(d=blocks.centroid.distance(centre)).nsmallest(max_grids, "d").reset_index(drop=True)
    area = blocks.area.to_numpy()
    blocks["tier"] = np.where(area < 150_000, "A", np.where(area < 600_000, "B", "C"))
    blocks["code"] = [f"420100{i:09d}" for i in range(len(blocks))]
    blocks["name"] = [f"街区{i}" for i in range(len(blocks))]
    return blocks[["code", "name", "tier", "geometry"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict, port: int, probe: str, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", probe)
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"server did not start ({' '.join(cmd)}):\n{log.read_text()[-3000:]}")


class Client:
    """One keep-alive HTTP/1.1 connection on a bare socket; ``run`` returns requests/s, checking every status.

    Why not http.client: its own cost per request is several times what a cached tile costs the server, and it
    would hide the servers' difference behind the client's. Bodies are read by Content-Length or chunked framing.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host = f"127.0.0.1:{port}".encode()
        self.buf = b""

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise SystemExit("server closed the connection")
            self.buf += chunk
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(1 << 16, n - len(self.buf)))
            if not chunk:
                raise SystemExit("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def get(self, path: str) -> bytes:
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host + b"\r\n\r\n")
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:])}
        if "content-length" in headers:
            body = self._read_exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
                parts.append(self._read_exactly(size))
                self._read_exactly(2)
            self._read_until(b"\r\n")
            body = b"".join(parts)
        else:
            body = b""
        if status != 200:
            raise SystemExit(f"GET {path} -> {status}: {body[:300]!r}")
        return body

    def run(self, paths: list[str]) -> float:
        t0 = time.perf_counter()
        for p in paths:
            self.get(p)
        return len(paths) / (time.perf_counter() - t0)


def tiles_over(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every (z, x, y) tile over a lon/lat box, row by row."""

    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 1 << z
        return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    x0, y1 = xy(bounds[0], bounds[1])
    x1, y0 = xy(bounds[2], bounds[3])
    return [(z, x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


def isolated_tiles(bounds, avoid: set[tuple[int, int, int]], rng: random.Random, n: int) -> list[tuple[int, int, int]]:
    """One random tile from every other metatile (no two chosen metatiles touch) at z14-16, away from ``avoid``."""
    chosen: dict[tuple, list] = {}
    for z in (14, 15, 16):
        m = metatile_size(z)
        for tz, x, y in tiles_over(bounds, z):
            bx, by = x // m, y // m
            near = any((z, bx + dx, by + dy) in avoid for dx in (-1, 0, 1) for dy in (-1, 0, 1))
            if bx % 2 == 0 and by % 2 == 0 and not near:
                chosen.setdefault((z, bx, by), []).append((tz, x, y))
    picked = [rng.choice(members) for members in chosen.values()]
    rng.shuffle(picked)
    return picked[:n]


def codes(mvt: bytes) -> set[str]:
    """Codes of the features that cover part of the tile itself (servers differ on what they put in the buffer)."""
    layers = mapbox_vector_tile.decode(mvt) if mvt else {}
    square = shapely.box(0, 0, 4096, 4096)
    return {
        f["properties"]["code"]
        for layer in layers.values()
        for f in layer["features"]
        if shapely.geometry.shape(f["geometry"]).intersection(square).area > 0
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("GEOGRID_WUHAN_DIR", "../shared/data/wuhan")))
    ap.add_argument("--server-url", default=os.environ.get("GEOGRID_DATABASE_URL", DEFAULT_DATABASE_URL))
    ap.add_argument("--tipg-python", default=os.environ.get("TIPG_PYTHON", sys.executable))
    ap.add_argument("--grids", type=int, default=50_000, help="grids in the plan (blocks nearest the centre)")
    ap.add_argument("--cold", type=int, default=240, help="distinct z14 tiles per cold pass")
    ap.add_argument("--warm", type=int, default=2000, help="requests in the warm pass")
    ap.add_argument("--items", type=int, default=200, help="items-with-bbox requests")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs per measure; the best of each counts")
    ap.add_argument("--keep-db", action="store_true", help="keep the bench database (its name is printed)")
    args = ap.parse_args()

    db = f"geogrid_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(sa_url(args.server_url)).set(database=db).render_as_string(hide_password=False)
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    procs: list[subprocess.Popen] = []
    logdir = Path(tempfile.mkdtemp(prefix="geogrid-bench-"))
    try:
        t0 = time.perf_counter()
        init_store(url)
        grids = load_grids(args.data, args.grids)
        with session_scope(url) as s:
            plan = save_draft_plan(s, grids, layer=LAYER, plan=PLAN, source="bench: Wuhan street blocks")
            plan_id = plan.id
        publish_plan(url, PLAN)
        bounds = tuple(grids.to_crs(4490).total_bounds)
        print(
            f"store {db}: {len(grids)} grids published in {time.perf_counter() - t0:.1f}s; bounds {np.round(bounds, 3)}"
        )

        gport, tport = free_port(), free_port()
        env = {**os.environ, "GEOGRID_DATABASE_URL": url}
        procs.append(
            start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "api.main:app",
                    "--port",
                    str(gport),
                    "--no-access-log",
                    "--timeout-keep-alive",
                    "300",
                    "--log-level",
                    "warning",
                ],
                env,
                gport,
                "/healthz",
                logdir / "geogrid.log",
            )
        )
        tenv = {
            **os.environ,
            "DATABASE_URL": libpq,
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": '["public.grid"]',
            "TIPG_CATALOG_TTL": "3600",
            "TIPG_TILE_BUFFER": "64",  # the same buffer as geogrid, so both tiles hold the same features
        }
        procs.append(
            start(
                [
                    args.tipg_python,
                    "-m",
                    "uvicorn",
                    "tipg.main:app",
                    "--port",
                    str(tport),
                    "--no-access-log",
                    "--timeout-keep-alive",
                    "300",
                    "--log-level",
                    "warning",
                ],
                tenv,
                tport,
                "/collections",
                logdir / "tipg.log",
            )
        )
        g, t = Client(gport), Client(tport)
        geo_tile = f"/tiles/grids.{LAYER}/{{z}}/{{x}}/{{y}}.mvt"
        tipg_tile = (
            f"/collections/public.grid/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?plan_id={plan_id}"
            "&properties=code,name,tier"
        )

        rng = random.Random(args.seed)
        tiles = tiles_over(bounds, 14)
        xs, ys = sorted({x for _, x, _ in tiles}), sorted({y for _, _, y in tiles})
        side = math.ceil(math.sqrt(args.cold))  # a square window of tiles around the centre, as a panning map sees
        cx, cy = xs[len(xs) // 2] - side // 2, ys[len(ys) // 2] - side // 2
        window = [(14, x, y) for y in range(cy, cy + side) for x in range(cx, cx + side)]
        viewport = window[: args.cold]
        m14 = metatile_size(14)
        scattered = isolated_tiles(bounds, {(14, x // m14, y // m14) for _, x, y in viewport}, rng, args.cold)
        warm_set = viewport[:32]
        warm = [warm_set[i % len(warm_set)] for i in range(args.warm)]

        def paths(template: str, tl: list[tuple[int, int, int]]) -> list[str]:
            return [template.format(z=z, x=x, y=y) for z, x, y in tl]

        # same grids from both servers on a sample of tiles
        sample = rng.sample(viewport, min(20, len(viewport)))
        pairs = [
            (codes(g.get(p1)), codes(t.get(p2)))
            for p1, p2 in zip(paths(geo_tile, sample), paths(tipg_tile, sample), strict=True)
        ]
        same = all(a == b for a, b in pairs)
        if not same:
            a, b = next((a, b) for a, b in pairs if a != b)
            print(f"tiles differ, e.g. only geogrid {sorted(a - b)[:5]}, only TiPg {sorted(b - a)[:5]}")
        g.run(["/healthz"] * 20)
        t.run(["/collections"] * 5)

        def items_paths(prefix: str, extra: str) -> list[str]:
            out = []
            r = random.Random(args.seed + 1)
            for _ in range(args.items):
                lon = r.uniform(bounds[0], bounds[2] - 0.01)
                lat = r.uniform(bounds[1], bounds[3] - 0.01)
                out.append(f"{prefix}?bbox={lon:.5f},{lat:.5f},{lon + 0.01:.5f},{lat + 0.009:.5f}&limit=100{extra}")
            return out

        def clear_geogrid_cache() -> None:
            """What a publication does: NOTIFY, so geogrid drops its tiles (TiPg keeps nothing to drop)."""
            with session_scope(url) as s:
                s.execute(text("SELECT pg_notify('geogrid_plans', :layer)"), {"layer": LAYER})
            time.sleep(0.5)

        def best(passes: list[tuple[float, float]]) -> tuple[float, float]:
            return max(p[0] for p in passes), max(p[1] for p in passes)

        # Each measure runs --repeat times alternating the two servers; the best rate of each counts (the machine
        # may be busy with other work, and the best run is the least disturbed one).
        runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.repeat):
            for name, tl in (("cold viewport", viewport), ("cold isolated", scattered)):
                clear_geogrid_cache()
                runs.setdefault(name, []).append((g.run(paths(geo_tile, tl)), t.run(paths(tipg_tile, tl))))
            runs.setdefault("warm repeated", []).append((g.run(paths(geo_tile, warm)), t.run(paths(tipg_tile, warm))))
            runs.setdefault("items bbox", []).append(
                (
                    g.run(items_paths(f"/collections/grids.{LAYER}/items", "")),
                    t.run(items_paths("/collections/public.grid/items", f"&plan_id={plan_id}")),
                )
            )
        results = {name: best(passes) for name, passes in runs.items()}
        print(
            f"tiles: {len(viewport)} viewport z14 + {len(scattered)} isolated z14-16 distinct, {len(warm)} warm, "
            f"best of {args.repeat}; "
            f"{args.items} bbox item pages; same grids in {len(sample)} sampled tiles: {'yes' if same else 'NO'}"
        )
        print(f"{'measure':<16}{'geogrid/s':>12}{'TiPg/s':>12}{'ratio':>10}{'median round ratio':>22}")
        for name, (gv, tv) in results.items():
            rounds = sorted(a / b for a, b in runs[name])
            print(f"{name:<16}{gv:>12.1f}{tv:>12.1f}{gv / tv:>9.1f}x{rounds[len(rounds) // 2]:>21.1f}x")
        print("targets: cold >= 3x TiPg, warm >= 20x TiPg")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep_db:
            drop_database(url)


if __name__ == "__main__":
    main()
