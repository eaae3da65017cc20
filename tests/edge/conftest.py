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


from tests.cases.conftest import City, build_city  # noqa: E402


@pytest.fixture
def city(store_url: str) -> City:
    return build_city(store_url)


@pytest.fixture
def edge_client(city: City, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on the case tests' city; server exceptions become responses (a 500 must show as a 500)."""
    monkeypatch.setenv("GEOGRID_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "3600")
    from api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def city_keys(city: City) -> dict[str, str]:
    out = {}
    with session_scope(city.url) as session:
        for role in ("admin", "operator", "reporter", "collector", "planner"):
            _, out[role] = create_account(session, f"h-{role}", role)
        _, out["unit_west"] = create_account(session, "h-unit-west", "unit", city.units["420102001001"])
        _, out["unit_east"] = create_account(session, "h-unit-east", "unit", city.units["420102001002"])
    return out
