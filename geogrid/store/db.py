"""Connections to the PostGIS store: engines, sessions, database creation and migrations."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from geogrid.settings import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class StoreError(RuntimeError):
    """The store cannot be reached or prepared; the message says what to do."""


def sa_url(url: str) -> str:
    """Pin the psycopg2 driver: SQLAlchemy 2.1 would otherwise pick psycopg 3 for ``postgresql://``."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


IDLE_PING_SECONDS = 10.0


@lru_cache(maxsize=16)
def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL, shared by the process.

    Checkout pings only a connection that sat idle in the pool for ``IDLE_PING_SECONDS`` (``pool_pre_ping`` would
    add a round trip to every request; a connection that broke while busy is invalidated with the whole pool by
    SQLAlchemy's disconnect handling anyway)."""
    return ping_when_idle(create_engine(sa_url(url or database_url()), **pool_options()))


def ping_when_idle(engine: Engine) -> Engine:
    """Make checkout ping only connections idle for ``IDLE_PING_SECONDS`` or more (see ``get_engine``)."""
    event.listen(engine, "checkin", _mark_idle)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def pool_options() -> dict[str, int]:
    """``GEOGRID_DB_POOL_SIZE`` / ``GEOGRID_DB_MAX_OVERFLOW`` / ``GEOGRID_DB_POOL_TIMEOUT`` (SQLAlchemy's defaults)."""
    env = os.environ
    return {
        "pool_size": int(env.get("GEOGRID_DB_POOL_SIZE", 5)),
        "max_overflow": int(env.get("GEOGRID_DB_MAX_OVERFLOW", 10)),
        "pool_timeout": int(env.get("GEOGRID_DB_POOL_TIMEOUT", 30)),
    }


def _mark_idle(dbapi_conn, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_conn, record, proxy) -> None:
    """Raise ``DisconnectionError`` (the pool then connects afresh) for a closed or, after idling, dead connection."""
    if getattr(dbapi_conn, "closed", 0):
        raise DisconnectionError("connection closed")
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT 1")
        dbapi_conn.rollback()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


@lru_cache(maxsize=64)
def session_factory(engine: Engine) -> sessionmaker:
    """One sessionmaker per engine (a new one per call costs a Session subclass and its event setup)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on any error."""
    session = session_factory(get_engine(url))()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def create_database(url: str) -> bool:
    """Create the database named in ``url`` if it is missing; True when it was created."""
    target = make_url(sa_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).scalar()
            if exists:
                return False
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
            return True
    except DBAPIError as exc:
        raise StoreError(
            f"cannot reach PostgreSQL at {target.render_as_string(hide_password=True)}: {exc.orig}"
        ) from exc
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` (tests use it to clean up after themselves)."""
    target = make_url(sa_url(url))
    get_engine.cache_clear()
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def ensure_postgis(url: str) -> str:
    """Create the PostGIS extension; return its version or explain how to install it."""
    engine = create_engine(sa_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            return conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except DBAPIError as exc:
        raise StoreError(
            "PostGIS is not available on this PostgreSQL server "
            f"({str(exc.orig).strip().splitlines()[0]}); on Debian run "
            "`apt-get install postgresql-$(pg_config --version | grep -oE '[0-9]+' | head -1)-postgis-3`"
        ) from exc
    finally:
        engine.dispose()


def alembic_config(url: str):
    """An Alembic configuration bound to ``url`` that finds the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sa_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the latest revision of every branch."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def init_store(url: str | None = None) -> dict:
    """Create the database, the PostGIS extension and the schema; safe to run again."""
    url = url or database_url()
    created = create_database(url)
    version = ensure_postgis(url)
    migrate(url)
    return {"database": make_url(url).database, "created": created, "postgis": version}
