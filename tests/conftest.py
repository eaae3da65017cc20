"""Shared fixtures: every test talks to a real PostGIS, in databases it creates and drops itself.

A migrated template database is made once per run; each test that needs a store gets a fresh copy of it
(``CREATE DATABASE … TEMPLATE``), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from geogrid.settings import DEFAULT_DATABASE_URL
from geogrid.store.db import drop_database, get_engine, init_store, sa_url

SERVER_URL = os.environ.get("GEOGRID_TEST_SERVER_URL") or os.environ.get("GEOGRID_DATABASE_URL", DEFAULT_DATABASE_URL)


def _url_for(name: str) -> str:
    return make_url(sa_url(SERVER_URL)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_url() -> Iterator[str]:
    """A database migrated to head, used as the template of every per-test store."""
    url = _url_for(f"geogrid_tmpl_{uuid.uuid4().hex[:10]}")
    init_store(url)
    get_engine(url).dispose()
    get_engine.cache_clear()
    yield url
    drop_database(url)


def _copy_template(template_url: str, name: str, attempts: int = 20) -> None:
    """CREATE DATABASE … TEMPLATE fails while anything (autovacuum, say) is connected to the template: retry."""
    admin = create_engine(make_url(template_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(attempts):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"'))
                return
            except OperationalError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.25)
    finally:
        admin.dispose()


@pytest.fixture
def store_url(template_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated, empty store; GEOGRID_DATABASE_URL points at it for the CLI and the API."""
    name = f"geogrid_test_{uuid.uuid4().hex[:12]}"
    _copy_template(template_url, name)
    url = _url_for(name)
    monkeypatch.setenv("GEOGRID_DATABASE_URL", url)
    get_engine.cache_clear()
    yield url
    get_engine.cache_clear()
    drop_database(url)
