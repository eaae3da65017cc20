"""Read replicas for real: a private primary, a streaming replica made by ``pg_basebackup -R`` on port 55433.

The locate index loads from the replica once it has replayed what the primary notified; OGC items and tiles read
from it; with the replica stopped every read falls back to the primary, and the replica is used again once it is
back. The clusters are private (``tests.pgcluster``), so the shared server is never reconfigured or restarted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.replicas import ReplicaIndexService
from geogrid.routing.locate import locate_with
from geogrid.store.db import get_engine, init_store, sa_url, session_scope
from geogrid.store.replicas import ReadRouter
from tests.locate.conftest import build_jurisdiction, insert_areas, publish
from tests.pgcluster import PrivateCluster, destroy, start_cluster, start_replica

DB = "geogrid_test_replica"


def wait_for(predicate, timeout: float = 20.0) -> bool:
    """Poll until ``predicate`` holds (a bound against a hung test, not a timing assertion)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[PrivateCluster, PrivateCluster]]:
    primary = start_cluster()
    replica = None
    try:
        init_store(primary.url(DB))
        areas, _, _ = build_jurisdiction()
        with session_scope(primary.url(DB)) as session:
            insert_areas(session, areas)
        replica = start_replica(primary)
        yield primary, replica
    finally:
        get_engine.cache_clear()
        if replica is not None:
            destroy(replica)
        destroy(primary)


def _publish(url: str, plan: str, renumber: str | None = None) -> str:
    """Publish the responsibility layer (notifying); return the code of grid 5."""
    _, grids, _ = build_jurisdiction()
    if renumber:
        for g in grids:
            g.code = g.code[:12] + renumber + g.code[13:]
    with session_scope(url) as session:
        ids = {code: i for code, i in session.execute(text("SELECT code, id FROM admin_area"))}
        publish(session, "responsibility", plan, grids, ids, notify=True)
    return grids[5].code


def _code(service: ReplicaIndexService, point) -> str | None:
    grid = locate_with(service, point.x, point.y, None, None).to_dict().get("grid")
    return grid["code"] if grid else None


def _ensure_running(replica: PrivateCluster) -> None:
    engine = create_engine(sa_url(replica.url(DB)))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
    finally:
        engine.dispose()


def test_locate_loads_from_the_replica_and_falls_back_to_the_primary(pair) -> None:
    primary, replica = pair
    _ensure_running(replica)  # it really is a standby: writes there would fail
    p_url, r_url = primary.url(DB), replica.url(DB)
    router = ReadRouter(p_url, [r_url], backoff_seconds=0.5, max_wait_seconds=10, check_seconds=0)
    service = ReplicaIndexService(lambda: router, poll_seconds=3600, listen=True)
    point = build_jurisdiction()[1][5].geom.representative_point()
    service.start()
    try:
        code = _publish(p_url, "resp-v1")
        assert wait_for(lambda: service.snapshot.layer_names and _code(service, point) == code)
        assert service.loaded_from == r_url  # the rebuild after NOTIFY read the replica, after its replay
        replica.stop()
        new_code = _publish(p_url, "resp-v2", renumber="9")
        assert wait_for(lambda: _code(service, point) == new_code)
        assert service.loaded_from == p_url
        assert router.choose() == p_url
        replica.start()
        time.sleep(router.backoff_seconds)
        assert wait_for(lambda: router.choose() == r_url)
        assert service.refresh(force=True) and service.loaded_from == r_url
        assert _code(service, point) == new_code
    finally:
        service.stop()
        router.dispose()


def test_items_and_tiles_read_from_the_replica_and_survive_its_loss(pair, monkeypatch) -> None:
    primary, replica = pair
    p_url, r_url = primary.url(DB), replica.url(DB)
    _publish(p_url, "resp-tiles", renumber="7")
    monkeypatch.setenv("GEOGRID_DATABASE_URL", p_url)
    monkeypatch.setenv("GEOGRID_READ_DATABASE_URLS", r_url)
    monkeypatch.setenv("GEOGRID_READ_CHECK_SECONDS", "0")
    monkeypatch.setenv("GEOGRID_READ_BACKOFF_SECONDS", "60")
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "3600")
    from api.main import create_app
    from geogrid.store.replicas import router_from_env

    assert wait_for(lambda: ReadRouter(p_url, [r_url]).caught_up(r_url, ReadRouter(p_url).primary_lsn(), 1))
    with TestClient(create_app()) as client:
        items = client.get("/collections/grids.responsibility/items", params={"limit": 50})
        assert items.status_code == 200, items.text
        assert {f["properties"]["code"][12] for f in items.json()["features"]} == {"7"}
        tile = client.get("/tiles/grids.responsibility/14/13048/6936.mvt")  # filled on the primary, read here
        assert tile.status_code == 200 and len(tile.content) > 100, tile.text
        with get_engine(p_url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM internal.tile_plan")).scalar() == 1
        assert router_from_env().choose() == r_url
        replica.stop()
        try:
            items = client.get("/collections/grids.responsibility/items", params={"limit": 5})
            assert items.status_code == 200, items.text
            assert len(items.json()["features"]) == 5
            assert router_from_env().choose() == p_url
            assert client.get("/v1/locate", params={"lon": 106.70, "lat": 26.57}).status_code == 200
        finally:
            replica.start()
    router_from_env().dispose()
