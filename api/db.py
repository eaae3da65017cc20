"""The database module owns the connection pool; routes get a session per request from here."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import DatabaseSettings
from geogrid.store.db import get_engine


def engine(settings: DatabaseSettings | None = None) -> Engine:
    return get_engine((settings or DatabaseSettings.from_env()).url)


def get_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request, committed when the handler returns normally."""
    session = sessionmaker(bind=engine(), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
