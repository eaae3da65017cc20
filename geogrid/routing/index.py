"""The in-memory locate index: published grids of every layer plus admin areas, in shapely STRtrees.

PostGIS stays the source of truth; this is a read-only snapshot answering point lookups without a query.

Tie-break (documented rule): a point covered by several polygons of one layer or admin level — it lies on a
shared border or vertex — belongs to the polygon with the **lowest code**, codes compared as plain strings
(code-point order). Polygons are sorted by code when a snapshot is built, so "lowest code" is "lowest tree index"
and the rule is vectorised. Coverage is closed (shapely ``covers``; STRtree ``intersects`` on points is the same).

The admin chain comes from the grid: the community of the first layer's grid that names one (grids never cross a
community border, so grid and community cannot disagree, even on a border), with that community's street and
district as parents. Only points in no such grid are looked up among the communities, then streets, then
districts (each level searched only where no lower level was found).

A point is ``outside`` when no admin area and no grid of any layer covers it.

Speed: each layer and admin level also has a cell raster (``geogrid.routing.raster``) that answers points away
from borders by array indexing; only points in cells crossed by a border go through the STRtree and a prepared
point-in-polygon test.

Freshness: triggers bump the one-row ``store_version`` table (migration 0400) in every transaction that changes
what the index holds, and announce it on ``geogrid_store``. ``IndexService`` rebuilds when notified (a LISTEN
thread per process) and every ``poll_seconds`` compares the counters (one primary-key read), so a lost
notification is caught up; requests never check anything, they read the current snapshot. The snapshot's
``version`` is the store's spatial counter, the same number in every worker, so a client can ask for an answer at
least as new as a publish it saw (``min_version``).
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from geogrid.routing.raster import EXACT, CellRaster
from geogrid.routing.rulebook import Rulebook
from geogrid.settings import database_url
from geogrid.store.db import sa_url

log = logging.getLogger(__name__)

CHANNELS = ("geogrid_store", "geogrid_plans", "geogrid_admin", "geogrid_directory")
ADMIN_ORDER = ("community", "street", "district")
PREPARE_MAX = 50_000  # polygons per set prepared for repeated point-in-polygon tests
RASTER_MAX = 60_000  # beyond this the 4M-cell raster has < 64 cells per polygon: nearly every cell is a border

_VERSIONS = text("SELECT spatial, directory, routing FROM store_version WHERE id = 1")
_GRIDS = text(
    "SELECT l.id AS layer_id, l.name AS layer, l.title, p.id AS plan_id, p.name AS plan, p.version, "
    "g.code, g.name, g.tier, g.community_id, ST_AsBinary(g.geom) AS wkb "
    "FROM grid g JOIN plan p ON p.id = g.plan_id JOIN grid_layer l ON l.id = p.layer_id "
    "WHERE p.status = 'published' ORDER BY l.id"
)
_AREAS = text("SELECT id, level, code, name, parent_id, encode(ST_AsBinary(geom), 'hex') AS wkb FROM admin_area")
_PEOPLE = text(
    "SELECT a.layer_id, a.grid_code, a.role, p.name, u.name AS unit FROM grid_assignment a "
    "JOIN person p ON p.id = a.person_id LEFT JOIN unit u ON u.id = p.unit_id ORDER BY a.role, p.name, a.id"
)
_GRID_UNITS = text(
    "SELECT r.layer_id, r.grid_code, u.id, u.code, u.name FROM grid_responsibility r JOIN unit u ON u.id = r.unit_id"
)
_AREA_UNITS = text(
    "SELECT admin_area_id, id, code, name FROM unit WHERE admin_area_id IS NOT NULL "
    "ORDER BY admin_area_id, (kind <> 'territorial'), code"
)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


@dataclass
class PolygonSet:
    """Polygons searched together (one layer's grids or one admin level), sorted by code for the tie-break."""

    codes: np.ndarray
    tree: shapely.STRtree
    rows: list[dict[str, Any]]
    raster: CellRaster | None = None

    @classmethod
    def build(cls, rows: list[dict[str, Any]], wkb: list, raster: bool = False) -> PolygonSet:
        """Sorted by code; prepared (GEOS indexes per polygon, kilobytes each) only while the set is small, and
        rasterised only while the raster can afford several cells per polygon (else the tree answers alone)."""
        codes = np.array([r["code"] for r in rows], dtype=object)
        order = np.argsort(codes, kind="stable") if len(codes) else np.zeros(0, dtype=np.intp)
        geoms = shapely.from_wkb(np.array(wkb, dtype=object)[order]) if len(codes) else np.array([], dtype=object)
        if len(geoms) <= PREPARE_MAX:
            shapely.prepare(geoms)
        out = cls(codes[order], shapely.STRtree(geoms), [rows[i] for i in order])
        if raster and len(geoms) <= RASTER_MAX:
            out.raster = CellRaster.build(geoms, out.exact)
        return out

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def geoms(self) -> np.ndarray:
        return self.tree.geometries

    def exact(self, pts: np.ndarray) -> np.ndarray:
        """Index of the lowest-code polygon covering each point, -1 where none does (STRtree + prepared PIP)."""
        out = np.full(len(pts), -1, dtype=np.intp)
        if not len(self.rows) or not len(pts):
            return out
        # bbox candidates, then the exact test against the prepared tree polygons (a predicate passed to
        # ``query`` would prepare the points instead, which is slower)
        hits = self.tree.query(pts)
        hits = hits[:, shapely.intersects(self.geoms[hits[1]], pts[hits[0]])]
        if hits.shape[1]:
            best = np.full(len(pts), len(self.rows), dtype=np.intp)
            np.minimum.at(best, hits[0], hits[1])
            found = best < len(self.rows)
            out[found] = best[found]
        return out

    def first_cover_one(self, x: float, y: float) -> int:
        """``first_cover`` for one point, with scalars."""
        if self.raster is not None:
            found = self.raster.lookup_one(x, y)
            if found != EXACT:
                return found
        if not len(self.rows):
            return -1
        # one GEOS call: tree candidates tested against the point (closed coverage: intersects == covers here)
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        return int(hits.min()) if len(hits) else -1

    def first_cover(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Like ``exact`` for coordinate arrays; the raster answers most points, the tree the rest."""
        if self.raster is None:
            return self.exact(shapely.points(x, y))
        out = self.raster.lookup(x, y)
        need = np.flatnonzero(out == EXACT)
        if len(need):
            out[need] = self.exact(shapely.points(x[need], y[need]))
        return out


@dataclass
class LayerSet:
    """One grid layer with a published plan."""

    id: int
    name: str
    title: str | None
    plan: dict[str, Any]
    grids: PolygonSet
    community_pos: np.ndarray  # per grid: index of its community in the admin set, -1 if unknown
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # grid code -> people (no phone)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)  # grid code -> responsible unit
    position: int = 0  # index among the snapshot's layers (batch JSON separators)
    last: bool = True
    _heads: np.ndarray | None = None
    _fragments: np.ndarray | None = None

    def item(self, i: int) -> dict[str, Any]:
        """The public answer for grid ``i``, made when asked: 500k prebuilt dictionaries cost ~250 MB a worker."""
        row = self.grids.rows[i]
        code = row["code"]
        return {
            "code": code,
            "name": row["name"],
            "tier": row["tier"],
            "layer": self.name,
            "plan": self.plan,
            "unit": self.units.get(code),
            "people": self.people.get(code, []),
        }

    @property
    def heads(self) -> np.ndarray:
        """Batch JSON ``{"grid":"<code>",`` per grid, plus the "no grid" one at the end (built on first batch)."""
        if self._heads is None:
            self._heads = np.array([b'{"grid":' + c + b"," for c in self._codes_json()], dtype=object)
        return self._heads

    @property
    def fragments(self) -> np.ndarray:
        """Batch JSON ``"<layer>":"<code>"`` per grid, plus the "no grid" one (built on first batch)."""
        if self._fragments is None:
            key = (b"," if self.position else b"") + _dumps(self.name) + b":"
            tail = b"}}," if self.last else b""
            self._fragments = np.array([key + c + tail for c in self._codes_json()], dtype=object)
        return self._fragments

    def _codes_json(self) -> list[bytes]:
        return [_dumps(c) for c in self.grids.codes] + [b"null"]


@dataclass
class Lookup:
    """Raw answers for many points: grid index per layer, admin index per level (-1 for none), outside."""

    grids: list[np.ndarray]
    admin: dict[str, np.ndarray]
    outside: np.ndarray


@dataclass
class Snapshot:
    """Everything a lookup needs, built at once and swapped atomically."""

    layers: list[LayerSet]
    admin: dict[str, PolygonSet]
    admin_items: dict[str, list[dict[str, Any]]]
    parent_index: dict[str, dict[str, np.ndarray]]  # level -> {parent level: index array}
    area_units: dict[int, dict[str, Any]]
    grid_units: dict[tuple[int, str], dict[str, Any]]
    versions: StoreVersion
    rulebook: Rulebook | None = None
    built_at: float = 0.0
    _admin_fragments: np.ndarray | None = None

    @property
    def version(self) -> int:
        """The store's spatial version this snapshot answers for (the same number in every worker)."""
        return self.versions.spatial

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def layer(self, name: str | None) -> LayerSet | None:
        """The named layer; None picks the primary layer (the first created, lowest id)."""
        if name is None:
            return self.layers[0] if self.layers else None
        for layer in self.layers:
            if layer.name == name:
                return layer
        return None

    # ---- lookups -------------------------------------------------------------------------------------------
    def lookup(self, x: np.ndarray, y: np.ndarray) -> Lookup:
        """Grids of every layer, then the admin chain: the community of the first layer's grid that names one
        (grids never cross a community border, so grid and community always agree), else a spatial lookup."""
        n = len(x)
        grids = [layer.grids.first_cover(x, y) for layer in self.layers]
        community = np.full(n, -1, dtype=np.intp)
        for layer, idx in zip(self.layers, grids, strict=True):
            if len(layer.community_pos):
                from_grid = np.where(idx >= 0, layer.community_pos[idx], -1)
                community = np.where(community >= 0, community, from_grid)
        admin = {level: np.full(n, -1, dtype=np.intp) for level in ADMIN_ORDER}
        admin["community"] = community
        for up, mapping in self.parent_index["community"].items():
            if len(mapping):
                admin[up] = np.where(community >= 0, mapping[community], -1)
        for k, level in enumerate(ADMIN_ORDER):
            need = np.flatnonzero(admin[level] < 0)
            for lower in ADMIN_ORDER[:k]:  # search a level only where no lower level was found
                need = need[admin[lower][need] < 0]
            if not len(need) or not len(self.admin[level]):
                continue
            found = self.admin[level].first_cover(x[need], y[need])
            hit = found >= 0
            admin[level][need[hit]] = found[hit]
            for up, mapping in self.parent_index[level].items():
                sel = need[hit]
                admin[up][sel] = np.where(admin[up][sel] >= 0, admin[up][sel], mapping[found[hit]])
        covered = np.zeros(n, dtype=bool)
        for idx in [*grids, *admin.values()]:
            covered |= idx >= 0
        return Lookup(grids, admin, ~covered)

    def locate_one(self, lon: float, lat: float, primary: str | None = None) -> dict[str, Any]:
        """The full public answer for one point (already in WGS84/CGCS2000).

        Same rules as ``lookup``, written with scalars: numpy's per-call overhead on 1-element arrays would
        cost more than the lookup itself on the single-point hot path."""
        layers: dict[str, Any] = {}
        community = -1
        for layer in self.layers:
            i = layer.grids.first_cover_one(lon, lat)
            layers[layer.name] = layer.item(i) if i >= 0 else None
            if i >= 0 and community < 0:
                community = int(layer.community_pos[i])
        idx = dict.fromkeys(ADMIN_ORDER, -1)
        if community >= 0:
            idx["community"] = community
            for up, mapping in self.parent_index["community"].items():
                idx[up] = int(mapping[community])
        else:
            for level in ADMIN_ORDER:
                if any(idx[lower] >= 0 for lower in ADMIN_ORDER[: ADMIN_ORDER.index(level) + 1]):
                    continue
                if not len(self.admin[level]):
                    continue
                found = self.admin[level].first_cover_one(lon, lat)
                if found >= 0:
                    idx[level] = found
                    for up, mapping in self.parent_index[level].items():
                        if idx[up] < 0:
                            idx[up] = int(mapping[found])
        chain = {lv: (self.admin_items[lv][i] if i >= 0 else None) for lv, i in idx.items()}
        main = self.layer(primary)
        grid_found = any(v is not None for v in layers.values())
        return {
            "outside": not grid_found and all(v is None for v in chain.values()),
            "layer": main.name if main else None,
            "grid": layers.get(main.name) if main else None,
            "layers": layers,
            **chain,
        }

    def _admin_fragment_table(self) -> np.ndarray:
        """Fragments ``"community":…,"street":…,"district":…,"outside":…,"grids":{`` per admin leaf, then none."""
        if self._admin_fragments is not None:
            return self._admin_fragments
        frags: list[bytes] = []
        for level in ADMIN_ORDER:
            parents = self.parent_index[level]
            for i, item in enumerate(self.admin_items[level]):
                chain = {lv: None for lv in ADMIN_ORDER}
                chain[level] = item["code"]
                for parent, mapping in parents.items():
                    j = int(mapping[i])
                    chain[parent] = self.admin_items[parent][j]["code"] if j >= 0 else None
                frags.append(_dumps(chain)[1:-1] + b',"outside":false,"grids":{')
        none = b'"community":null,"street":null,"district":null'
        frags += [none + b',"outside":false,"grids":{', none + b',"outside":true,"grids":{']
        self._admin_fragments = np.array(frags, dtype=object)
        return self._admin_fragments

    def batch_json(self, x: np.ndarray, y: np.ndarray, primary: str | None = None) -> bytes:
        """The ``results`` JSON array for many points, in input order, joined from precomputed fragments:
        ``{"grid":…,"community":…,"street":…,"district":…,"outside":…,"grids":{"<layer>":…}}``."""
        n = len(x)
        if n == 0:
            return b"[]"
        found = self.lookup(x, y)
        main = self.layer(primary)
        offset, leaf = 0, np.full(n, -1, dtype=np.intp)
        for level in ADMIN_ORDER:
            idx = found.admin[level]
            take = (leaf < 0) & (idx >= 0)
            leaf[take] = offset + idx[take]
            offset += len(self.admin_items[level])
        leaf = np.where(leaf >= 0, leaf, np.where(found.outside, offset + 1, offset))
        if main is not None:
            columns = [main.heads[found.grids[self.layers.index(main)]]]
        else:
            columns = [np.array([b'{"grid":null,'], dtype=object)[np.zeros(n, dtype=np.intp)]]
        columns.append(self._admin_fragment_table()[leaf])
        columns += [layer.fragments[idx] for layer, idx in zip(self.layers, found.grids, strict=True)]
        table = np.empty((n, len(columns)), dtype=object)
        for c, col in enumerate(columns):
            table[:, c] = col
        if not self.layers:
            table[:, -1] = table[:, -1] + b"}},"
        body = b"".join(table.ravel().tolist())
        return b"[" + body[:-1] + b"]"


# ---- building ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class StoreVersion:
    """The store's change counters (table ``store_version``, bumped by triggers in the writing transaction)."""

    spatial: int
    directory: int
    routing: int


def store_version(conn) -> StoreVersion:
    """One primary-key read: what a worker asks instead of scanning the published grids."""
    return StoreVersion(*conn.execute(_VERSIONS).one())


def _public_unit(row) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "name": row.name}


def _load_spatial(conn) -> tuple[list[LayerSet], dict[str, PolygonSet], dict[str, dict[str, np.ndarray]]]:
    by_layer: dict[int, dict[str, Any]] = {}
    for r in conn.execute(_GRIDS):
        entry = by_layer.setdefault(
            r.layer_id,
            {"name": r.layer, "title": r.title, "plan": {"name": r.plan, "version": r.version}, "rows": [], "wkb": []},
        )
        entry["rows"].append({"code": r.code, "name": r.name, "tier": r.tier, "community_id": r.community_id})
        entry["wkb"].append(bytes(r.wkb))
    layer_rows = sorted(by_layer.items())
    rows: dict[str, list[dict[str, Any]]] = {level: [] for level in ADMIN_ORDER}
    wkbs: dict[str, list[str]] = {level: [] for level in ADMIN_ORDER}
    for r in conn.execute(_AREAS):
        rows[r.level].append({"id": r.id, "code": r.code, "name": r.name, "parent_id": r.parent_id})
        wkbs[r.level].append(r.wkb)
    admin = {level: PolygonSet.build(rows[level], wkbs[level], raster=True) for level in ADMIN_ORDER}
    position = {level: {row["id"]: i for i, row in enumerate(admin[level].rows)} for level in ADMIN_ORDER}
    layers = []
    for lid, e in layer_rows:
        grids = PolygonSet.build(e["rows"], e["wkb"], raster=True)
        comm = np.array([position["community"].get(r["community_id"], -1) for r in grids.rows], dtype=np.intp)
        layers.append(LayerSet(lid, e["name"], e["title"], e["plan"], grids, comm))
    parents: dict[str, dict[str, np.ndarray]] = {}
    for k, level in enumerate(ADMIN_ORDER):
        parents[level] = {}
        for up in ADMIN_ORDER[k + 1 :]:
            parents[level][up] = np.full(len(admin[level]), -1, dtype=np.intp)
        for i, row in enumerate(admin[level].rows):
            pid, seen = row["parent_id"], set()
            while pid is not None and pid not in seen:
                seen.add(pid)
                up = next((lv for lv in ADMIN_ORDER if pid in position[lv]), None)
                if up is None:
                    break
                j = position[up][pid]
                if up in parents[level] and parents[level][up][i] < 0:
                    parents[level][up][i] = j
                pid = admin[up].rows[j]["parent_id"]
    return layers, admin, parents


def _attach_directory(conn, layers: list[LayerSet], admin: dict[str, PolygonSet]) -> tuple[dict, dict, dict]:
    """Public answers per grid and per admin area, with people (no phone) and responsible units."""
    people: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in conn.execute(_PEOPLE):
        people.setdefault((r.layer_id, r.grid_code), []).append({"name": r.name, "role": r.role, "unit": r.unit})
    grid_units = {(r.layer_id, r.grid_code): _public_unit(r) for r in conn.execute(_GRID_UNITS)}
    area_units: dict[int, dict[str, Any]] = {}
    for r in conn.execute(_AREA_UNITS):
        area_units.setdefault(r.admin_area_id, {"id": r.id, "code": r.code, "name": r.name})
    admin_items = {
        level: [
            {"id": row["id"], "code": row["code"], "name": row["name"], "unit": area_units.get(row["id"])}
            for row in admin[level].rows
        ]
        for level in ADMIN_ORDER
    }
    for j, layer in enumerate(layers):
        layer.people = {code: ps for (lid, code), ps in people.items() if lid == layer.id}
        layer.units = {code: u for (lid, code), u in grid_units.items() if lid == layer.id}
        layer.position, layer.last = j, j == len(layers) - 1
    return admin_items, area_units, grid_units


def build_snapshot(url: str, previous: Snapshot | None = None) -> Snapshot:
    """Read published plans, admin areas, directory and routing configuration in one REPEATABLE READ transaction
    on a connection of its own (never one of the request pool: see ``IndexService``); parts whose counter did not
    move since ``previous`` are reused."""
    engine = _builder_engine(url)
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        versions = store_version(conn)
        if previous is not None and previous.versions.spatial == versions.spatial:
            layers = [
                LayerSet(layer.id, layer.name, layer.title, layer.plan, layer.grids, layer.community_pos)
                for layer in previous.layers
            ]
            admin, parents = previous.admin, previous.parent_index
        else:
            layers, admin, parents = _load_spatial(conn)
        reuse = previous is not None and previous.versions.routing == versions.routing and previous.rulebook
        rulebook = previous.rulebook if reuse else Rulebook.load(conn)
        admin_items, area_units, grid_units = _attach_directory(conn, layers, admin)
    return Snapshot(layers, admin, admin_items, parents, area_units, grid_units, versions, rulebook, time.time())


@lru_cache(maxsize=16)
def _builder_engine(url: str) -> Engine:
    """Index builds and version checks use their own connections (NullPool): a build that waited for a request-pool
    connection while requests waited for the build was the cold-worker deadlock."""
    return create_engine(sa_url(url), poolclass=NullPool)


class IndexService:
    """Holds the current snapshot for one store; optionally keeps it fresh with a LISTEN/poll thread.

    Locking: ``_lock`` only guards the "build in flight" slot and is never held across a database wait. One thread
    builds (on a connection of its own, never one from the request pool) while everyone else keeps answering from
    the old snapshot, or, on a cold worker, waits on the build's future. The new snapshot is swapped in with one
    assignment.
    """

    def __init__(
        self, url: str | Callable[[], str] | None = None, poll_seconds: float = 10.0, listen: bool = True
    ) -> None:
        self._url = url
        self.poll_seconds = poll_seconds
        self.listen = listen
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._pending: Future | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rebuilds = 0
        self.last_build_seconds = 0.0

    @property
    def url(self) -> str:
        """The store URL; a callable is resolved late, so an app created at import time follows the environment."""
        if callable(self._url):
            return self._url()
        return self._url or database_url()

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot; on a cold worker, the one build in flight (started here if none is)."""
        snap = self._snapshot
        if snap is not None:
            return snap
        return self._build().result()

    def _build(self, force: bool = False) -> Future:
        """Run a build in this thread unless one is in flight elsewhere; either way return that build's future."""
        with self._lock:
            if self._pending is not None:
                return self._pending
            future: Future = Future()
            self._pending = future
        try:
            started = time.monotonic()
            snap = build_snapshot(self.url, None if force else self._snapshot)
            self._snapshot = snap  # the atomic swap: readers hold the old object as long as they need it
            self.rebuilds += 1
            self.last_build_seconds = time.monotonic() - started
            future.set_result(snap)
        except BaseException as exc:
            future.set_exception(exc)
        finally:
            with self._lock:
                self._pending = None
        return future

    def store_version(self, conn=None) -> StoreVersion:
        """The store's counters now: on ``conn`` if given, else on a connection of the index's own."""
        if conn is not None:
            return store_version(conn)
        with _builder_engine(self.url).connect() as own:
            return store_version(own)

    def refresh(self, force: bool = False, conn=None) -> bool:
        """Rebuild if the store's counters moved (or always with ``force``); True when a new snapshot was swapped.

        A build that was already in flight may predate the change, so the counters are compared again after it."""
        swapped = False
        for _ in range(5):
            current = self._snapshot
            if current is not None and not force and self.store_version(conn) == current.versions:
                return swapped
            self._build(force).result()
            swapped, force, conn = True, False, None
        return swapped

    def at_least(self, version: int, conn=None) -> Snapshot:
        """A snapshot answering for store version ``version`` or later (a client's ``min_version``), or the newest
        one if the store is not there yet (the caller compares)."""
        snap = self.snapshot
        if snap.version < version:
            self.refresh(conn=conn)
            snap = self.snapshot
        return snap

    # ---- the watcher thread ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="geogrid-locate-index", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _connect(self):
        import psycopg2

        dsn = make_url(sa_url(self.url)).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg2.connect(dsn)
        conn.set_session(autocommit=True)
        with conn.cursor() as cur:
            for channel in CHANNELS:
                cur.execute(f"LISTEN {channel}")
        return conn

    def _safe_refresh(self, force: bool = False) -> None:
        try:
            self.refresh(force=force)
        except Exception:  # keep serving the last good snapshot; the next poll retries
            log.exception("locate index refresh failed")

    def _run(self) -> None:
        self._safe_refresh()  # warm up off the request path: a cold worker's first requests wait on this build
        backoff = 1.0
        while not self._stop.is_set():
            conn = None
            try:
                if self.listen:
                    conn = self._connect()
                    self._safe_refresh()  # catch up on anything missed while not listening (and warm up)
                backoff = 1.0
                deadline = time.monotonic() + self.poll_seconds
                while not self._stop.is_set():
                    wait = min(0.5, max(0.0, deadline - time.monotonic()))
                    if conn is not None:
                        ready, _, _ = select.select([conn], [], [], wait)
                        if ready:
                            conn.poll()
                            if conn.notifies:
                                conn.notifies.clear()
                                self._safe_refresh()
                                continue
                    else:
                        self._stop.wait(wait)
                    if time.monotonic() >= deadline:
                        self._safe_refresh()
                        deadline = time.monotonic() + self.poll_seconds
            except Exception:
                log.warning("locate index listener lost its connection; retrying in %.0f s", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()


_SHARED: dict[str, IndexService] = {}
_SHARED_LOCK = threading.Lock()


def shared_index(url: str | None = None) -> IndexService:
    """A process-wide index per store URL for library callers (no thread; they call ``refresh`` themselves)."""
    key = url or database_url()
    with _SHARED_LOCK:
        service = _SHARED.get(key)
        if service is None:
            service = _SHARED[key] = IndexService(key, listen=False)
        return service
