"""Read routing for the API: a session dependency for lag-tolerant reads and a locate index that loads from replicas.

The routes that read from replicas (OGC items, tiles, exports, stats) take ``get_read_session``; every other route
keeps ``api.db.get_session`` on the primary, so a case its creator just filed is read back from where it was written.
The change signal (LISTEN) stays on the primary (``GEOGRID_LISTEN_DATABASE_URL``, default the primary URL): it must
not go through a transaction-mode pooler. See ``geogrid.store.replicas`` for health checks and back-off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from geogrid.routing.index import CHANNELS, IndexService, Snapshot
from geogrid.store.replicas import ReadRouter, listen_url, router_from_env


def get_read_session() -> Iterator[Session]:
    """FastAPI dependency for lag-tolerant reads: a replica when one is healthy, else the primary.

    A replica that fails during the request is put in back-off, so the next reads go elsewhere."""
    router = router_from_env()
    session, url = router.session()
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        if router.is_replica(url) and (exc.connection_invalidated or isinstance(exc, OperationalError)):
            router.mark_down(url, exc.orig)
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class ReplicaIndexService(IndexService):
    """The locate index, loaded from a replica that has replayed the primary's latest commit.

    LISTEN runs on the primary; on a signal (or a poll) the primary's WAL position is read and the build goes to a
    replica once it has replayed that position (within ``GEOGRID_READ_MAX_WAIT_SECONDS``), else to the primary. A
    replica that fails mid-build is put in back-off and the build is redone on the primary."""

    def __init__(
        self, router: Callable[[], ReadRouter] = router_from_env, poll_seconds: float = 10.0, listen: bool = True
    ) -> None:
        super().__init__(lambda: router().primary, poll_seconds=poll_seconds, listen=listen)
        self._router = router
        self._target = threading.local()
        self.loaded_from: str | None = None  # the server of the last load (or fingerprint check)

    @property
    def url(self) -> str:
        """Where the next load reads from: the server picked for this refresh, else a healthy replica."""
        return getattr(self._target, "url", None) or self._router().choose()

    @property
    def snapshot(self) -> Snapshot:  # type: ignore[override]
        """The current snapshot; the first build falls back to the primary when the replica fails."""
        if self._snapshot is not None:
            return self._snapshot
        return self._with_fallback(lambda: IndexService.snapshot.fget(self), fresh=False)

    def refresh(self, force: bool = False, conn=None) -> bool:
        """Reload from a replica that has replayed the primary's last commit (else the primary), if anything changed.

        ``conn`` (a primary connection) only reads the change counters; the build goes where ``url`` points."""
        return self._with_fallback(lambda: IndexService.refresh(self, force, conn), fresh=True)

    def _with_fallback(self, load: Callable, fresh: bool):
        router = self._router()
        self._target.url = router.fresh_url() if fresh else router.choose()
        try:
            result = load()
            self.loaded_from = self._target.url
            return result
        except DBAPIError as exc:
            if not router.is_replica(self._target.url):
                raise
            router.mark_down(self._target.url, exc.orig)
            self._target.url = self.loaded_from = router.primary
            return load()
        finally:
            self._target.url = None

    def _connect(self):
        import psycopg2

        from geogrid.maps.notify import libpq_url

        conn = psycopg2.connect(
            libpq_url(listen_url(self._router().primary)), application_name="geogrid-locate-listener"
        )
        conn.set_session(autocommit=True)
        with conn.cursor() as cur:
            for channel in CHANNELS:
                cur.execute(f"LISTEN {channel}")
        return conn
