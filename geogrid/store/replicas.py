"""Read replicas: which server a read goes to, and when a replica may answer it.

``GEOGRID_READ_DATABASE_URLS`` (comma-separated) names streaming replicas of the primary (``GEOGRID_DATABASE_URL``).
Reads that tolerate a moment of lag (locate index loads, OGC items, tiles, exports, stats) go to a replica; writes and
the reads that must see them go to the primary. Why a router and not a proxy: the application knows which reads may
lag, a proxy does not.

Health: a replica that fails to connect is skipped for ``GEOGRID_READ_BACKOFF_SECONDS`` (5 s), then tried again;
with none healthy every read goes to the primary. Freshness: after a change signal, a reader asks the primary for its
current WAL position and waits (at most ``GEOGRID_READ_MAX_WAIT_SECONDS``, 2 s) until a replica has replayed it,
reading from the primary if none has.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geogrid.settings import database_url
from geogrid.store.db import StoreError, get_engine, sa_url

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_URLS_ENV = "GEOGRID_READ_DATABASE_URLS"
LISTEN_URL_ENV = "GEOGRID_LISTEN_DATABASE_URL"


def read_urls(env: dict | None = None) -> tuple[str, ...]:
    """The replica URLs configured (empty: every read goes to the primary)."""
    raw = (env if env is not None else os.environ).get(READ_URLS_ENV, "")
    return tuple(u.strip() for u in raw.split(",") if u.strip())


def listen_url(primary: str | None = None) -> str:
    """Where LISTEN connects: ``GEOGRID_LISTEN_DATABASE_URL``, else the primary. Never a transaction-mode pooler:
    its server connections are handed to other clients between transactions, so a LISTEN there would be lost."""
    return os.environ.get(LISTEN_URL_ENV) or primary or database_url()


def transaction_pooled() -> bool:
    """``GEOGRID_DB_POOLER=transaction``: the primary URL goes through pgbouncer in transaction mode, so nothing may
    outlive a transaction on a server connection (no SQL ``PREPARE``, no session ``SET``)."""
    return os.environ.get("GEOGRID_DB_POOLER", "").strip().lower() in ("transaction", "pgbouncer")


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value is not None else default
    except ValueError:
        raise StoreError(f"{name} must be a number of seconds, not {value!r}") from None


def redacted(url: str) -> str:
    return make_url(sa_url(url)).render_as_string(hide_password=True)


@dataclass
class _Health:
    down_until: float = 0.0
    checked_at: float = float("-inf")
    failures: int = 0


class ReadRouter:
    """Chooses a server for each read: a healthy replica in turn, the primary when none is."""

    def __init__(
        self,
        primary: str,
        replicas: Sequence[str] = (),
        backoff_seconds: float = 5.0,
        max_wait_seconds: float = 2.0,
        connect_timeout: int = 2,
        check_seconds: float = 1.0,
    ) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self.connect_timeout = connect_timeout
        self.check_seconds = check_seconds
        self._health = {url: _Health() for url in self.replicas}
        self._turn = itertools.cycle(range(max(1, len(self.replicas))))
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    # ---- choosing ------------------------------------------------------------------------------------------------
    def healthy(self) -> list[str]:
        """Replicas not in their back-off period, starting with the next one in turn."""
        now = time.monotonic()
        up = [u for u in self.replicas if self._health[u].down_until <= now]
        if len(up) > 1:
            start = next(self._turn) % len(up)
            up = up[start:] + up[:start]
        return up

    def url(self) -> str:
        """The server for a lag-tolerant read."""
        up = self.healthy()
        return up[0] if up else self.primary

    def mark_down(self, url: str, reason: object = "") -> None:
        """Skip this replica for the back-off period (the primary is never skipped: it is the last resort)."""
        health = self._health.get(url)
        if health is None:
            return
        health.failures += 1
        health.checked_at = float("-inf")
        health.down_until = time.monotonic() + self.backoff_seconds
        log.warning(
            "read replica %s is down (%s); reads go elsewhere for %.0f s", redacted(url), reason, self.backoff_seconds
        )

    def is_replica(self, url: str) -> bool:
        return url in self._health

    # ---- engines and connections ---------------------------------------------------------------------------------
    def engine(self, url: str) -> Engine:
        """One pool per replica (checked at checkout, short connect timeout); the primary's shared engine."""
        if not self.is_replica(url):
            return get_engine(url)
        engine = self._engines.get(url)
        if engine is None:
            with self._lock:
                engine = self._engines.get(url)
                if engine is None:
                    engine = self._engines[url] = create_engine(
                        sa_url(url), pool_pre_ping=True, connect_args={"connect_timeout": self.connect_timeout}
                    )
        return engine

    def choose(self) -> str:
        """The server for a lag-tolerant read: a replica that answered a check in the last ``check_seconds`` (checked
        now otherwise), else the primary. Checks are rationed so a read costs no extra round trip in steady state."""
        now = time.monotonic()
        for url in self.healthy():
            health = self._health[url]
            if now - health.checked_at < self.check_seconds:
                return url
            try:
                with self.engine(url).connect() as conn:
                    conn.execute(text("SELECT 1"))
                health.checked_at = time.monotonic()
                return url
            except DBAPIError as exc:
                self.mark_down(url, _reason(exc))
        return self.primary

    def session(self) -> tuple[Session, str]:
        """A session for a lag-tolerant read and the server it reads from (the caller closes the session)."""
        url = self.choose()
        return Session(bind=self.engine(url), expire_on_commit=False), url

    # ---- freshness -----------------------------------------------------------------------------------------------
    def primary_lsn(self) -> str | None:
        """The primary's current WAL position, or None when it cannot be reached (replicas then answer as they are)."""
        try:
            with self.engine(self.primary).connect() as conn:
                return conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar()
        except DBAPIError:
            return None

    def caught_up(self, url: str, lsn: str | None, wait: float | None = None) -> bool:
        """Whether the replica has replayed ``lsn``, polling for at most ``wait`` seconds."""
        if lsn is None or not self.is_replica(url):
            return True
        end = time.monotonic() + (self.max_wait_seconds if wait is None else wait)
        query = text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true)")
        try:
            with self.engine(url).connect() as conn:
                while True:
                    if conn.execute(query, {"lsn": lsn}).scalar():
                        return True
                    conn.rollback()
                    if time.monotonic() >= end:
                        return False
                    time.sleep(0.02)
        except DBAPIError as exc:
            self.mark_down(url, _reason(exc))
            return False

    def fresh_url(self) -> str:
        """A server that has everything the primary committed so far: a replica that caught up, else the primary."""
        if not self.replicas:
            return self.primary
        lsn = self.primary_lsn()
        for url in self.healthy():
            if self.caught_up(url, lsn):
                return url
        return self.primary

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


def _reason(exc: DBAPIError) -> str:
    text_ = str(getattr(exc, "orig", exc)).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


@lru_cache(maxsize=8)
def _router(primary: str, replicas: tuple[str, ...], backoff: float, wait: float, check: float) -> ReadRouter:
    return ReadRouter(primary, replicas, backoff_seconds=backoff, max_wait_seconds=wait, check_seconds=check)


def router_from_env() -> ReadRouter:
    """The process's router for the current environment (one per configuration, so pools are shared)."""
    return _router(
        database_url(),
        read_urls(),
        _seconds("GEOGRID_READ_BACKOFF_SECONDS", 5.0),
        _seconds("GEOGRID_READ_MAX_WAIT_SECONDS", 2.0),
        _seconds("GEOGRID_READ_CHECK_SECONDS", 1.0),
    )


def is_read_only_error(exc: BaseException) -> bool:
    """A write refused because the server is a hot standby (SQLSTATE 25006)."""
    return getattr(getattr(exc, "orig", None), "pgcode", None) == "25006"


def write_through_primary(session: Session, primary_url: str, write: Callable[[Session], T], wait: float = 5.0) -> T:
    """Run ``write`` on ``session``; when that session is on a replica, run it on the primary and wait until the
    replica has replayed it, so the caller's next read on ``session`` sees the write (tile tables filled lazily)."""
    try:
        return write(session)
    except DBAPIError as exc:
        if not is_read_only_error(exc):
            raise
    primary = Session(get_engine(primary_url), expire_on_commit=False)
    try:
        result = write(primary)
        primary.commit()
        lsn = primary.execute(text("SELECT pg_current_wal_lsn()::text")).scalar()
        primary.commit()
    finally:
        primary.close()
    query = text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true)")
    end = time.monotonic() + wait
    while not session.execute(query, {"lsn": lsn}).scalar():
        if time.monotonic() >= end:
            raise StoreError(f"the replica did not replay the primary's write within {wait:.0f} s")
        time.sleep(0.02)
    return result
