"""Per-application map state: the cached catalogue, the tile cache, and the listener that invalidates both."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from geogrid.maps.cache import CachedTile, TileCache, etag_for
from geogrid.maps.catalog import Collection, load_catalog
from geogrid.maps.notify import PlanListener
from geogrid.maps.projected import ensure_projected
from geogrid.maps.tiles import block_of, metatile_size, render_block
from geogrid.store.db import sa_url
from geogrid.store.replicas import listen_url, router_from_env, write_through_primary


class MapState:
    """Shared by the OGC, tiles and export routes of one app.

    The catalogue is reloaded when a plan is published (LISTEN), when an unknown id is asked for, and at the latest
    every ``catalog_ttl`` seconds (a safety net should notifications be lost). Tiles of drafts are never cached:
    drafts are still being edited.
    """

    def __init__(self, url_provider: Callable[[], str], max_bytes: int | None = None, catalog_ttl: float | None = None):
        self.url_provider = url_provider
        mb = float(os.environ.get("GEOGRID_TILES_CACHE_MB", "64"))
        self.cache = TileCache(max_bytes if max_bytes is not None else int(mb * 1024 * 1024))
        self.catalog_ttl = (
            catalog_ttl if catalog_ttl is not None else float(os.environ.get("GEOGRID_CATALOG_TTL", "30"))
        )
        self._catalog: dict[str, Collection] | None = None
        self._catalog_at = 0.0
        self._lock = threading.Lock()
        self._block_locks: dict[tuple, threading.Lock] = {}
        self._admin_fingerprint: tuple | None = None
        self._blocks_seen: OrderedDict[tuple, None] = OrderedDict()
        self.listener: PlanListener | None = None
        self.notifications = 0
        self._engine: Engine | None = None
        self._projected: set[int] = set()

    # --- invalidation -------------------------------------------------------------------------------------------
    def ensure_listener(self) -> None:
        if self.listener is not None and self.listener.is_alive():
            return
        with self._lock:
            if self.listener is None or not self.listener.is_alive():
                self.listener = PlanListener(listen_url(self.url_provider()), self.changed)
                self.listener.start()

    def changed(self, payload: str | None) -> None:
        """A plan was published (payload = layer name) or the listener reconnected (None): start afresh."""
        self.notifications += payload is not None
        with self._lock:
            self._catalog = None
            self._blocks_seen.clear()
            self._projected.clear()
            self.cache.bump()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        if self._engine is not None:
            self._engine.dispose()

    # --- catalogue ----------------------------------------------------------------------------------------------
    def catalog(self, session: Session, refresh: bool = False) -> dict[str, Collection]:
        self.ensure_listener()
        now = time.monotonic()
        cat = self._catalog
        if refresh or cat is None or now - self._catalog_at > self.catalog_ttl:
            self._check_admin(session)
            stamp = self.cache.stamp
            cat = load_catalog(session)
            with self._lock:
                if self.cache.stamp == stamp:
                    self._catalog, self._catalog_at = cat, now
        return cat

    def _check_admin(self, session: Session) -> None:
        """Admin imports need not notify: a changed row count or last writing transaction also drops the tiles."""
        row = session.execute(text("SELECT count(*), max(xmin::text::bigint) FROM admin_area")).one()
        fingerprint = tuple(row)
        if self._admin_fingerprint is not None and fingerprint != self._admin_fingerprint:
            self._projected.clear()  # the projected copies hold community names: have them checked again
            self.cache.bump()
        self._admin_fingerprint = fingerprint

    def cached_collection(self, cid: str) -> Collection | None:
        """The collection from the in-memory catalogue without touching the database (the warm tile path)."""
        cat = self._catalog
        if cat is None or time.monotonic() - self._catalog_at > self.catalog_ttl:
            return None
        return cat.get(cid)

    def collection(self, session: Session, cid: str) -> Collection | None:
        found = self.catalog(session).get(cid)
        if found is None:  # maybe created since the last load
            found = self.catalog(session, refresh=True).get(cid)
        return found

    # --- tiles --------------------------------------------------------------------------------------------------
    @staticmethod
    def tile_key(collection: Collection, z: int, x: int, y: int) -> tuple:
        source = ("plan", collection.plan_id) if collection.kind == "grids" else ("admin", collection.level)
        return (*source, z, x, y)

    def cached_tile(self, collection: Collection, z: int, x: int, y: int) -> CachedTile | None:
        if collection.is_draft:
            return None
        return self.cache.get(self.tile_key(collection, z, x, y))

    def _busy_area(self, source: tuple, z: int, x: int, y: int) -> bool:
        """Whether this metatile or one next to it had a miss before: a client is looking around here."""
        m = metatile_size(z)
        bx, by = x // m, y // m
        with self._lock:
            near = any((source, z, bx + dx, by + dy) in self._blocks_seen for dx in (-1, 0, 1) for dy in (-1, 0, 1))
            self._blocks_seen[(source, z, bx, by)] = None
            self._blocks_seen.move_to_end((source, z, bx, by))
            if len(self._blocks_seen) > 100_000:
                self._blocks_seen.popitem(last=False)
            return near

    def render(self, session: Session, collection: Collection, z: int, x: int, y: int) -> CachedTile:
        """Render the tile and cache it; where a client is looking around, render and cache its whole metatile.

        Why: one query for a block of 16 tiles costs about as much as four single tiles, which pays when a map is
        panning here and is waste for a lone tile. A miss in a metatile that, or whose neighbour, missed before
        means panning. Concurrent misses in one block wait for each other rather than render twice.
        """
        if collection.is_draft:
            data = render_block(session, collection, z, x, y, whole=False).get((x, y), b"")
            return CachedTile(data, etag_for(data))
        projected = self._ensure_projected(session, collection)
        block_key = (self.tile_key(collection, z, 0, 0), block_of(z, x, y))
        with self._lock:
            lock = self._block_locks.setdefault(block_key, threading.Lock())
        with lock:
            hit = self.cache.get(self.tile_key(collection, z, x, y))
            if hit is not None:
                return hit
            stamp = self.cache.stamp
            tiles = render_block(
                session, collection, z, x, y, whole=self._busy_area(block_key[0], z, x, y), projected=projected
            )
            wanted = None
            for (tx, ty), data in tiles.items():
                stored = self.cache.put(self.tile_key(collection, z, tx, ty), data, stamp=stamp)
                if (tx, ty) == (x, y):
                    wanted = stored
        with self._lock:
            self._block_locks.pop(block_key, None)
        return wanted if wanted is not None else CachedTile(b"", etag_for(b""))

    def _ensure_projected(self, session: Session, collection: Collection) -> bool:
        """Whether the plan's grids can be served from ``tile_grid``, filling it on the plan's first tile."""
        if collection.kind != "grids" or collection.plan_id is None:
            return False
        if collection.plan_id not in self._projected:
            plan_id = collection.plan_id  # on a replica the fill runs on the primary, then the replica catches up
            write_through_primary(session, self.url_provider(), lambda s: ensure_projected(s, plan_id))
            with self._lock:
                self._projected.add(collection.plan_id)
        return True

    def render_fresh(self, collection: Collection, z: int, x: int, y: int) -> CachedTile:
        """Render with the state's own connection pool, for callers that hold no session (the ASGI tile front).

        The pool skips the per-checkout ping: a tile miss is one query, and a ping would add a round trip to it.
        A connection that died meanwhile fails once and the render is retried on a fresh one.
        """
        router = router_from_env()
        if router.replicas:  # lag-tolerant: a healthy replica's checked pool, the primary when none answers
            url = router.choose()
            try:
                with Session(router.engine(url)) as session:
                    return self.render(session, collection, z, x, y)
            except DBAPIError as exc:
                if router.is_replica(url) and (exc.connection_invalidated or isinstance(exc, OperationalError)):
                    router.mark_down(url, exc.orig)
                raise
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = create_engine(sa_url(self.url_provider()), pool_pre_ping=False, pool_recycle=600)
        for attempt in (1, 2):
            try:
                with Session(self._engine) as session:
                    return self.render(session, collection, z, x, y)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")
