"""The database module owns the connection pools; routes get a session per request from here.

One pool per route class (``api.classes``), each sized to its class's slots, so a flooded class can hold only its
own connections (the pools together are sized workers x classes). Each pool's connections carry the class's
``statement_timeout``: as a libpq option at connect time, or, with ``GEOGRID_DB_TIMEOUT_MODE=set_local`` (the
default behind pgbouncer in transaction mode, ``GEOGRID_DB_POOLER=transaction``, which refuses connection options),
as ``SET LOCAL`` at each transaction start.
Outside a request (no class), the process's default engine is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from api import classes
from api.edge import ROUTE_CLASS
from api.settings import DatabaseSettings
from geogrid.store.db import get_engine, ping_when_idle, sa_url, session_factory
from geogrid.store.replicas import transaction_pooled


@lru_cache(maxsize=64)
def class_engine(url: str, route_class: str) -> Engine:
    """The pool of one route class: ``slots`` connections (+2 for nested work), waits bounded by the class."""
    rc = classes.from_env()[route_class]
    pooled = transaction_pooled()  # pgbouncer in transaction mode keeps no connect options: SET LOCAL instead
    mode = os.environ.get("GEOGRID_DB_TIMEOUT_MODE", "set_local" if pooled else "connect").strip().lower()
    if mode not in ("connect", "set_local"):
        raise ValueError(f"GEOGRID_DB_TIMEOUT_MODE={mode!r}: use connect or set_local")
    args = {"options": f"-c statement_timeout={rc.timeout_ms}"} if mode == "connect" else {}
    eng = create_engine(
        sa_url(url),
        pool_size=rc.slots,
        max_overflow=2,
        pool_timeout=max(1.0, rc.wait),
        connect_args=args,
    )
    ping_when_idle(eng)  # no ping round trip per request (see geogrid.store.db.get_engine)
    if mode == "set_local":

        @event.listens_for(eng, "begin")
        def _timeout(conn) -> None:  # noqa: ANN001 - SQLAlchemy's event signature
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(rc.timeout_ms)}")

    return eng


def engine(settings: DatabaseSettings | None = None) -> Engine:
    """The engine for the current request's route class (the default engine outside a request)."""
    url = (settings or DatabaseSettings.from_env()).url
    route_class = ROUTE_CLASS.get()
    return class_engine(url, route_class) if route_class else get_engine(url)


def get_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request, committed when the handler returns normally."""
    session = session_factory(engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
