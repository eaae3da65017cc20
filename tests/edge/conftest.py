"""Edge tests: an app on a fresh store, accounts of every role, and the key cache emptied between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import keys
from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    keys.CACHE.clear()
    yield
    keys.CACHE.clear()


@pytest.fixture
def app_client(store_url: str) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def accounts(store_url: str) -> dict[str, str]:
    """role -> API key for one account of each role."""
    out = {}
    with session_scope(store_url) as session:
        for role in ("admin", "operator", "reporter", "collector", "planner"):
            _, out[role] = create_account(session, f"edge-{role}", role)
    return out
