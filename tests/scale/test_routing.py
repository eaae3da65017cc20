"""The read router without a replica: configuration, back-off on a dead replica, the primary as last resort."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geogrid.store.db import StoreError
from geogrid.store.replicas import ReadRouter, listen_url, read_urls, router_from_env, transaction_pooled
from tests.pgcluster import free_port


def test_configuration_is_read_from_the_environment(monkeypatch) -> None:
    assert read_urls({"GEOGRID_READ_DATABASE_URLS": " postgresql://a/x , ,postgresql://b/x"}) == (
        "postgresql://a/x",
        "postgresql://b/x",
    )
    assert read_urls({}) == ()
    monkeypatch.delenv("GEOGRID_LISTEN_DATABASE_URL", raising=False)
    assert listen_url("postgresql://primary/x") == "postgresql://primary/x"
    monkeypatch.setenv("GEOGRID_LISTEN_DATABASE_URL", "postgresql://direct/x")
    assert listen_url("postgresql://bouncer/x") == "postgresql://direct/x"
    monkeypatch.setenv("GEOGRID_DB_POOLER", "transaction")
    assert transaction_pooled()
    monkeypatch.setenv("GEOGRID_DB_POOLER", "")
    assert not transaction_pooled()


def test_a_bad_number_of_seconds_is_refused_with_the_variable_named(monkeypatch) -> None:
    monkeypatch.setenv("GEOGRID_READ_BACKOFF_SECONDS", "soon")
    with pytest.raises(StoreError, match="GEOGRID_READ_BACKOFF_SECONDS"):
        router_from_env()


def test_a_dead_replica_is_skipped_for_the_back_off_then_tried_again(store_url) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"  # nothing listens there
    router = ReadRouter(store_url, [dead], backoff_seconds=60, check_seconds=0)
    try:
        assert router.choose() == store_url  # the check failed: the primary answers
        assert router.healthy() == []  # and the replica is in back-off
        session, url = router.session()
        with session:
            assert url == store_url and session.execute(text("SELECT 1")).scalar() == 1
        router._health[dead].down_until = 0  # the back-off is over: the replica is tried again
        assert router.healthy() == [dead]
        assert router.choose() == store_url and router._health[dead].failures == 2
        assert router.fresh_url() == store_url
    finally:
        router.dispose()


def test_replicas_take_turns(store_url) -> None:
    router = ReadRouter(store_url, ["postgresql://r1/x", "postgresql://r2/x"], check_seconds=3600)
    for url in router.replicas:
        router._health[url].checked_at = float("inf")  # as if just checked
    assert {router.url() for _ in range(4)} == {"postgresql://r1/x", "postgresql://r2/x"}
    router.mark_down("postgresql://r1/x", "test")
    assert {router.url() for _ in range(4)} == {"postgresql://r2/x"}
    router.mark_down(store_url, "the primary is never skipped")
    assert router.healthy() == ["postgresql://r2/x"]
