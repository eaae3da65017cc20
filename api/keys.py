"""Worker-side API-key cache: who a key belongs to, without a database round trip per request.

Why: every keyed request used to cost one ``SELECT`` on ``account`` (and a pooled connection) before any work; under
load that doubled the database operations of intake. Entries (known keys and unknown ones) live ``ttl`` seconds
(default 4, ``GEOGRID_API_KEY_CACHE_SECONDS``), so a revoked, expired or rotated-out key stops working within 5 s.
Concurrent lookups of the same key share one database query (single flight), so a burst of requests with a new key,
or a flood of one wrong key, costs one lookup. While the database is unreachable, a key seen in the last 10 minutes
keeps its last answer (intake goes on from the cache; a revocation made then waits for the database to return).
Use is recorded in ``account.last_used_at`` in batches.

Interface: ``await lookup(key)`` from async code, ``lookup_sync(key)`` from a worker thread; both answer a
``Principal`` or None (unknown, revoked or expired key).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass

from anyio import to_thread

from geogrid.store.accounts import account_for_key, hash_key, touch
from geogrid.store.db import session_scope

log = logging.getLogger(__name__)
MAX_KEY_LENGTH = 256


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account, or the anonymous public."""

    account_id: int | None
    name: str
    role: str
    unit_id: int | None = None
    admin_area_id: int | None = None  # operators of a district or street centre (geogrid.supervision.scope)

    @property
    def is_public(self) -> bool:
        return self.account_id is None


ANONYMOUS = Principal(account_id=None, name="anonymous", role="public")


def _load_from_db(key: str) -> Principal | None:
    with session_scope() as session:
        account = account_for_key(session, key)
        if account is None:
            return None
        return Principal(account.id, account.name, account.role, account.unit_id, account.admin_area_id)


def _touch_db(ids: Iterable[int]) -> None:
    with session_scope() as session:
        touch(session, ids)


class KeyCache:
    """A bounded TTL cache of key -> Principal | None with single-flight loading and batched last-use writes."""

    def __init__(
        self,
        load: Callable[[str], Principal | None] = _load_from_db,
        ttl: float = 4.0,
        max_entries: int = 10_000,
        record_use: Callable[[Iterable[int]], None] = _touch_db,
        use_every: float = 60.0,
        stale_for: float = 600.0,
    ) -> None:
        self.load, self.ttl, self.max_entries, self.stale_for = load, ttl, max_entries, stale_for
        self.record_use, self.use_every = record_use, use_every
        self.loads = 0  # database lookups made (tests check single flight with it)
        self._entries: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        self._inflight: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._used: set[int] = set()
        self._last_use_write = time.monotonic()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _cached(self, digest: str) -> tuple[bool, Principal | None, Future | None, bool]:
        """(hit, principal, in-flight future, we own the flight) under the lock."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(digest)
                return True, entry[1], None, False
            flight = self._inflight.get(digest)
            if flight is not None:
                return False, None, flight, False
            flight = self._inflight[digest] = Future()
            return False, None, flight, True

    def _finish(self, digest: str, flight: Future, key: str) -> Principal | None:
        try:
            self.loads += 1
            principal = self.load(key)
        except Exception as exc:
            with self._lock:
                self._inflight.pop(digest, None)
                stale = self._entries.get(digest)
            if stale is not None and time.monotonic() - stale[0] < self.stale_for:
                flight.set_result(stale[1])  # the database is away: the last answer beats a refusal
                return stale[1]
            flight.set_exception(exc)
            raise
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.ttl, principal)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            self._inflight.pop(digest, None)
        flight.set_result(principal)
        return principal

    def _used_now(self, principal: Principal | None) -> Principal | None:
        if principal is None or principal.account_id is None:
            return principal
        with self._lock:
            self._used.add(principal.account_id)
            due = time.monotonic() - self._last_use_write >= self.use_every
            if due:
                ids, self._used = self._used, set()
                self._last_use_write = time.monotonic()
        if due:
            threading.Thread(target=self._write_use, args=(ids,), daemon=True).start()
        return principal

    def _write_use(self, ids: set[int]) -> None:
        try:
            self.record_use(ids)
        except Exception as exc:  # last use is informative; never fail a request or crash the worker over it
            log.warning("could not record key use: %s", exc)

    def flush_use(self) -> None:
        """Write pending last-use times now (tests; shutdown)."""
        with self._lock:
            ids, self._used = self._used, set()
            self._last_use_write = time.monotonic()
        if ids:
            self.record_use(ids)

    def lookup_sync(self, key: str) -> Principal | None:
        """From a worker thread: the key's principal, or None."""
        if not _plausible(key):
            return None
        digest = hash_key(key)
        hit, principal, flight, owner = self._cached(digest)
        if hit:
            return self._used_now(principal)
        if owner:
            return self._used_now(self._finish(digest, flight, key))
        return self._used_now(flight.result(timeout=30))

    async def lookup(self, key: str) -> Principal | None:
        """From the event loop: the key's principal, or None; a miss is loaded in a thread, once per key."""
        if not _plausible(key):
            return None
        digest = hash_key(key)
        hit, principal, flight, owner = self._cached(digest)
        if hit:
            return self._used_now(principal)
        if owner:
            return self._used_now(await to_thread.run_sync(self._finish, digest, flight, key))
        return self._used_now(await asyncio.wrap_future(flight))


def _plausible(key: str) -> bool:
    """Keys are short printable ASCII; anything else is unknown without asking the database."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


CACHE = KeyCache(ttl=float(os.environ.get("GEOGRID_API_KEY_CACHE_SECONDS", "4")))


async def lookup(key: str) -> Principal | None:
    """The principal owning ``key`` (cached per worker for a few seconds), or None."""
    return await CACHE.lookup(key)


def lookup_sync(key: str) -> Principal | None:
    """``lookup`` for code running in a worker thread."""
    return CACHE.lookup_sync(key)
