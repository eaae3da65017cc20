"""Generate a city- or province-sized store fast: N grids on a jittered lattice, loaded with COPY.

The lattice shares every border between neighbours (each edge is computed once, wiggled, and used by both sides),
so the grids tile the land exactly like a real plan: no gaps, no overlaps. Communities are blocks of
``block`` × ``block`` grids, streets blocks of communities, one district over everything; each admin area has a
territorial unit, so routing by territory works. One layer ``responsibility`` with one published plan; a routing
rule for ``event:01`` (community level) and a 4-hour limit for ``event:0102``; one ``reporter`` account.

Used by ``bench/intake_bench.py`` and ``bench/locate_bench.py`` (and the province load test)::

    python bench/big_store.py --grids 500000 --url postgresql://postgres@127.0.0.1:5432/geogrid_big

Everything is vectorised (numpy + shapely 2) and written with ``COPY … FROM STDIN`` (hex EWKB geometries), so
500k grids load in well under a minute on a laptop; progress is printed per step.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geogrid.store.db import get_engine, init_store  # noqa: E402

X0, Y0 = 114.0, 30.0  # south-west corner (CGCS2000 lon/lat, around Wuhan)
STEP = 0.002  # grid side in degrees (~200 m)
SRID = 4490


@dataclass(frozen=True)
class BigStore:
    """What was generated: sizes, bounds (for random points inside) and the reporter's API key."""

    grids: int
    communities: int
    streets: int
    bounds: tuple[float, float, float, float]
    api_key: str
    seconds: float


class Lattice:
    """Vertices of a (side+1)² lattice, jittered inside, and wiggly edges shared by the cells on both sides."""

    def __init__(self, side: int, edge_points: int, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.side, self.k = side, edge_points
        xs, ys = np.meshgrid(X0 + STEP * np.arange(side + 1), Y0 + STEP * np.arange(side + 1), indexing="ij")
        v = np.stack([xs, ys], axis=-1)
        v[1:side, 1:side] += rng.uniform(-0.2, 0.2, size=(side - 1, side - 1, 2)) * STEP
        # horizontal edge (i, j): v[i, j] -> v[i+1, j]; vertical edge (i, j): v[i, j] -> v[i, j+1]
        self.h = self._edges(v[:-1, :], v[1:, :], rng, border_axis=1)
        self.v = self._edges(v[:, :-1], v[:, 1:], rng, border_axis=0)

    def _edges(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator, border_axis: int) -> np.ndarray:
        """(…, k+2, 2) points per edge, both ends included; edges on the outer border stay straight."""
        t = np.linspace(0.0, 1.0, self.k + 2)[:, None]
        d = b - a
        normal = np.stack([-d[..., 1], d[..., 0]], axis=-1)
        amp = rng.uniform(-0.05, 0.05, size=a.shape[:2])
        waves = rng.integers(1, 4, size=a.shape[:2])
        idx = np.arange(a.shape[border_axis])
        border = (idx == 0) | (idx == self.side)
        amp = np.where(border[None, :] if border_axis == 1 else border[:, None], 0.0, amp)
        bend = np.sin(np.pi * t[None, None, :, 0] * waves[..., None]) * amp[..., None]
        return a[..., None, :] + t[None, None] * d[..., None, :] + bend[..., None] * normal[..., None, :]

    def rings(self, i0: np.ndarray, j0: np.ndarray, w: int, h: int) -> np.ndarray:
        """Closed outer rings (n, points, 2) of the rectangles of w × h cells at (i0, j0), counter-clockwise."""
        n, fw = len(i0), self.h[..., :-1, :]
        rev_h, rev_v = self.h[..., ::-1, :][..., :-1, :], self.v[..., ::-1, :][..., :-1, :]
        di, dj = np.arange(w), np.arange(h)
        bottom = fw[i0[:, None] + di, j0[:, None]].reshape(n, -1, 2)
        right = self.v[..., :-1, :][(i0 + w)[:, None], j0[:, None] + dj].reshape(n, -1, 2)
        top = rev_h[i0[:, None] + di[::-1], (j0 + h)[:, None]].reshape(n, -1, 2)
        left = rev_v[i0[:, None], j0[:, None] + dj[::-1]].reshape(n, -1, 2)
        ring = np.concatenate([bottom, right, top, left], axis=1)
        return np.concatenate([ring, ring[:, :1]], axis=1)

    def multipolygons(self, i0: np.ndarray, j0: np.ndarray, w: int, h: int) -> np.ndarray:
        polys = shapely.polygons(self.rings(i0, j0, w, h))
        return shapely.multipolygons(polys, indices=np.arange(len(polys)))


def ewkb(geoms: np.ndarray) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)


def copy_rows(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY text rows (values must not contain tabs or newlines: generated codes, names and hex only)."""
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def _tiles(side: int, size: int) -> list[tuple[int, int, int, int]]:
    """(i0, j0, w, h) of the blocks of ``size`` cells covering a side × side lattice (smaller at the far edges)."""
    starts = range(0, side, size)
    return [(i, j, min(size, side - i), min(size, side - j)) for i in starts for j in starts]


def _geoms_by_shape(lattice: Lattice, tiles: list[tuple[int, int, int, int]]) -> list:
    """Multipolygons for tiles of mixed sizes, built one vectorised call per distinct (w, h)."""
    out: list = [None] * len(tiles)
    shapes: dict[tuple[int, int], list[int]] = {}
    for n, (_, _, w, h) in enumerate(tiles):
        shapes.setdefault((w, h), []).append(n)
    for (w, h), members in shapes.items():
        i0 = np.array([tiles[m][0] for m in members])
        j0 = np.array([tiles[m][1] for m in members])
        for m, g in zip(members, ewkb(lattice.multipolygons(i0, j0, w, h)), strict=True):
            out[m] = g
    return out


def _say(msg: str, t0: float) -> None:
    print(f"[big_store] {time.monotonic() - t0:6.1f} s  {msg}", flush=True)


def _admin(cur, lattice: Lattice, block: int, street_block: int, t0: float) -> tuple[dict, dict]:
    """District, streets and communities with their territorial units; returns community id and code per tile."""
    side = lattice.side
    cur.execute(
        "INSERT INTO admin_area (level, code, name, geom) VALUES ('district', '420100', 'bench district', "
        "ST_GeomFromEWKB(decode(%s, 'hex'))) RETURNING id",
        (_geoms_by_shape(lattice, [(0, 0, side, side)])[0],),
    )
    district = cur.fetchone()[0]
    street_tiles = _tiles(side, block * street_block)
    street_geoms = _geoms_by_shape(lattice, street_tiles)
    cur.execute("SELECT nextval('admin_area_id_seq') FROM generate_series(1, %s)", (len(street_tiles),))
    street_ids = [r[0] for r in cur.fetchall()]
    rows = [
        (sid, "street", f"420100{n + 1:03d}", f"street {n + 1}", district, g)
        for n, (sid, g) in enumerate(zip(street_ids, street_geoms, strict=True))
    ]
    copy_rows(cur, "admin_area", ("id", "level", "code", "name", "parent_id", "geom"), rows)
    comm_tiles, comm_street = [], []
    for n, (si, sj, sw, sh) in enumerate(street_tiles):
        for i, j, w, h in _tiles(max(sw, sh), block):
            if i < sw and j < sh:
                comm_tiles.append((si + i, sj + j, min(w, sw - i), min(h, sh - j)))
                comm_street.append(n)
    comm_geoms = _geoms_by_shape(lattice, comm_tiles)
    cur.execute("SELECT nextval('admin_area_id_seq') FROM generate_series(1, %s)", (len(comm_tiles),))
    comm_ids = [r[0] for r in cur.fetchall()]
    seq: dict[int, int] = {}
    comm_rows, comm_of = [], {}
    for tile, street, cid, g in zip(comm_tiles, comm_street, comm_ids, comm_geoms, strict=True):
        seq[street] = seq.get(street, 0) + 1
        code = f"420100{street + 1:03d}{seq[street]:03d}"
        comm_rows.append((cid, "community", code, f"community {code}", street_ids[street], g))
        comm_of[tile[:2]] = (cid, code, tile)
    copy_rows(cur, "admin_area", ("id", "level", "code", "name", "parent_id", "geom"), comm_rows)
    units = [(f"u-{r[2]}", f"{r[3]} centre", "territorial", r[0]) for r in [*rows, *comm_rows]]
    units.append(("u-420100", "district centre", "territorial", district))
    copy_rows(cur, "unit", ("code", "name", "kind", "admin_area_id"), units)
    _say(f"{len(street_tiles)} streets, {len(comm_tiles)} communities, {len(units)} units", t0)
    return comm_of, {"district": district}


def _grids(cur, lattice: Lattice, comm_of: dict, plan_id: int, t0: float) -> int:
    side = lattice.side
    cell_i, cell_j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    cell_i, cell_j = cell_i.ravel(), cell_j.ravel()
    total = 0
    chunk = 50_000
    owner = {}
    for (ci, cj), (cid, code, (_, _, w, h)) in comm_of.items():
        owner[(ci, cj)] = (cid, code, w, h)
    block_of = np.full((side, side, 2), -1, dtype=np.int64)
    for (ci, cj), (_, _, w, h) in owner.items():
        block_of[ci : ci + w, cj : cj + h] = (ci, cj)
    for start in range(0, len(cell_i), chunk):
        i, j = cell_i[start : start + chunk], cell_j[start : start + chunk]
        hexes = ewkb(lattice.multipolygons(i, j, 1, 1))
        rows = []
        for a, b, g in zip(i.tolist(), j.tolist(), hexes, strict=True):
            bi, bj = block_of[a, b]
            cid, code, w, h = owner[(int(bi), int(bj))]
            local = (a - bi) * h + (b - bj) + 1
            rows.append((plan_id, f"{code}{local:03d}", "A", cid, g))
        copy_rows(cur, "grid", ("plan_id", "code", "tier", "community_id", "geom"), rows)
        total += len(rows)
        _say(f"{total} / {len(cell_i)} grids copied", t0)
    return total


def build(url: str, grids: int, block: int = 5, street_block: int = 10, edge_points: int = 6) -> BigStore:
    """Create (or refill) the store at ``url`` with about ``grids`` grids; returns sizes, bounds and an API key."""
    from sqlalchemy.orm import Session

    from geogrid.routing.catalogue import import_catalogue
    from geogrid.store.accounts import create_account

    t0 = time.monotonic()
    init_store(url)
    side = max(block, round(math.sqrt(grids)))
    lattice = Lattice(side, edge_points)
    _say(f"lattice {side} x {side} ({side * side} grids, {4 * (edge_points + 1) + 1} points per ring)", t0)
    engine = get_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "TRUNCATE admin_area, unit, grid_layer, plan, grid, routing_rule, time_limit, account RESTART IDENTITY "
            "CASCADE"
        )
        comm_of, _ = _admin(cur, lattice, block, street_block, t0)
        cur.execute("INSERT INTO grid_layer (name) VALUES ('responsibility') RETURNING id")
        layer_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO plan (name, layer_id, version, status, valid_from) "
            "VALUES ('bench-v1', %s, 1, 'published', now()) RETURNING id",
            (layer_id,),
        )
        count = _grids(cur, lattice, comm_of, cur.fetchone()[0], t0)
        raw.commit()
    finally:
        raw.close()
    with Session(engine) as session, session.begin():
        import_catalogue(
            session,
            {
                "rules": [{"category": "event:01", "name": "市容环境", "territorial_level": "community"}],
                "time_limits": [{"category": "event:0102", "urgency": "normal", "value": 4, "unit": "hours"}],
            },
            "bench",
        )
        _, key = create_account(session, "bench-reporter", "reporter")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        from sqlalchemy import text

        conn.execute(text("VACUUM ANALYZE grid"))
        conn.execute(text("VACUUM ANALYZE admin_area"))
    seconds = time.monotonic() - t0
    _say(f"done: {count} grids", t0)
    bounds = (X0, Y0, X0 + side * STEP, Y0 + side * STEP)
    streets = len(_tiles(side, block * street_block))
    return BigStore(count, len(comm_of), streets, bounds, key, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="database URL (created if missing, its tables emptied)")
    parser.add_argument("--grids", type=int, default=100_000)
    parser.add_argument("--block", type=int, default=5, help="grids per community side")
    parser.add_argument("--street-block", type=int, default=10, help="communities per street side")
    parser.add_argument("--edge-points", type=int, default=6, help="points inside each grid edge")
    args = parser.parse_args()
    store = build(args.url, args.grids, args.block, args.street_block, args.edge_points)
    print(store)


if __name__ == "__main__":
    main()
