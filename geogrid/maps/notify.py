"""LISTEN for plan publications so every API worker drops what it derived from the previous plan."""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable

import psycopg2
from sqlalchemy.engine import make_url

from geogrid.store.db import sa_url

log = logging.getLogger(__name__)
CHANNELS = ("geogrid_plans", "geogrid_admin")


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as plain libpq understands it (no ``+driver``)."""
    return make_url(sa_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


class PlanListener(threading.Thread):
    """A daemon thread holding one LISTEN connection; calls ``on_change(payload)`` for each notification.

    ``on_change(None)`` is also called after every (re)connect, since notifications sent while disconnected are lost.
    The thread ends on ``stop()`` or when the database no longer exists.
    """

    def __init__(self, url: str, on_change: Callable[[str | None], None], channels: tuple[str, ...] = CHANNELS) -> None:
        super().__init__(name="geogrid-plan-listener", daemon=True)
        self.dsn = libpq_url(url)
        self.on_change = on_change
        self.channels = channels
        self.connected = threading.Event()
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        delay = 0.5
        while not self._stop_event.is_set():
            try:
                self._listen()
                delay = 0.5
            except psycopg2.OperationalError as exc:
                self.connected.clear()
                if "does not exist" in str(exc):
                    log.info("plan listener stops: %s", str(exc).strip())
                    return
                log.warning("plan listener lost its connection (%s); retrying in %.1fs", str(exc).strip(), delay)
                self._stop_event.wait(delay)
                delay = min(delay * 2, 30.0)

    def _listen(self) -> None:
        conn = psycopg2.connect(self.dsn, application_name="geogrid-plan-listener")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                for channel in self.channels:
                    cur.execute(f"LISTEN {channel}")
            self.on_change(None)
            self.connected.set()
            while not self._stop_event.is_set():
                if select.select([conn], [], [], 1.0)[0]:
                    conn.poll()
                    while conn.notifies:
                        self.on_change(conn.notifies.pop(0).payload)
        finally:
            conn.close()
