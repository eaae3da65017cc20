"""The database module owns the connection pool; routes get a session per request from here."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import DatabaseSettings
from geogrid.store.db import get_engine


def engine(settings: DatabaseSettings | None = None) -> Engine:
    return get_engine((settings or DatabaseSettings.from_env()).url)


@lru_cache(maxsize=16)
def _factory(bound: Engine) -> sessionmaker:
    """One sessionmaker per engine: each ``sessionmaker()`` call makes a Session subclass whose event dispatch
    SQLAlchemy sets up again on first use (tens of ms a request on a loaded machine)."""
    return sessionmaker(bind=bound, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request, committed when the handler returns normally."""
    session = _factory(engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
