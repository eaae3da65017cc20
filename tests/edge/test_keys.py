"""The worker-side key cache: one lookup per burst, revocation and rotation honoured, 401 for a wrong key."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from api.keys import KeyCache, Principal
from geogrid.store.accounts import create_account, revoke, rotate, set_expiry
from geogrid.store.db import session_scope
from geogrid.store.models import Account


def _slow_loader(calls: list[str], principal: Principal | None, delay: float = 0.2):
    def load(key: str) -> Principal | None:
        calls.append(key)
        time.sleep(delay)
        return principal

    return load


def test_a_burst_of_async_lookups_of_a_new_key_costs_one_load() -> None:
    calls: list[str] = []
    who = Principal(7, "r", "reporter")
    cache = KeyCache(load=_slow_loader(calls, who), record_use=lambda ids: None)

    async def burst() -> list:
        return await asyncio.gather(*(cache.lookup("gg_new-key") for _ in range(200)))

    answers = asyncio.run(burst())
    assert answers == [who] * 200
    assert calls == ["gg_new-key"]
    assert cache.loads == 1


def test_threads_and_coroutines_share_one_flight() -> None:
    calls: list[str] = []
    cache = KeyCache(load=_slow_loader(calls, None), record_use=lambda ids: None)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(cache.lookup_sync("gg_wrong"))) for _ in range(20)]
    for t in threads:
        t.start()
    asyncio.run(cache.lookup("gg_wrong"))
    for t in threads:
        t.join()
    assert results == [None] * 20
    assert len(calls) == 1


def test_entries_expire_after_the_ttl_and_a_failed_load_is_not_cached() -> None:
    calls: list[str] = []
    state = {"fail": True}

    def load(key: str) -> Principal | None:
        calls.append(key)
        if state["fail"]:
            raise ConnectionError("db down")
        return Principal(1, "a", "admin")

    cache = KeyCache(load=load, ttl=0.05, record_use=lambda ids: None)
    try:
        cache.lookup_sync("gg_k")
        raise AssertionError("a failing load must raise")
    except ConnectionError:
        pass
    state["fail"] = False
    assert cache.lookup_sync("gg_k") == Principal(1, "a", "admin")
    assert cache.lookup_sync("gg_k") == Principal(1, "a", "admin")
    assert len(calls) == 2
    time.sleep(0.1)
    cache.lookup_sync("gg_k")
    assert len(calls) == 3


def test_implausible_keys_never_reach_the_database() -> None:
    calls: list[str] = []
    cache = KeyCache(load=_slow_loader(calls, None, 0), record_use=lambda ids: None)
    for key in ("", "x" * 1000, "gg_\x00abc", "gg_ключ"):
        assert cache.lookup_sync(key) is None
    assert calls == []


def test_the_cache_is_bounded() -> None:
    cache = KeyCache(load=lambda k: None, max_entries=50, record_use=lambda ids: None)
    for i in range(500):
        cache.lookup_sync(f"gg_{i}")
    assert len(cache._entries) == 50


def test_use_is_written_in_batches(store_url: str) -> None:
    with session_scope(store_url) as session:
        account, key = create_account(session, "batch", "reporter")
        account_id = account.id
    writes: list[set[int]] = []
    cache = KeyCache(ttl=60, record_use=lambda ids: writes.append(set(ids)), use_every=3600)
    for _ in range(100):
        assert cache.lookup_sync(key).account_id == account_id
    assert writes == []  # not a write per request
    cache.record_use = KeyCache().record_use
    cache.flush_use()
    with session_scope(store_url) as session:
        assert session.scalar(select(Account.last_used_at).where(Account.id == account_id)) is not None


def test_revoked_expired_and_rotated_keys(store_url: str) -> None:
    cache = KeyCache(ttl=0.2, record_use=lambda ids: None)
    with session_scope(store_url) as session:
        _, old = create_account(session, "rot", "collector")
        _, gone = create_account(session, "gone", "reporter")
        _, late = create_account(session, "late", "reporter")
    assert cache.lookup_sync(old).name == "rot"
    with session_scope(store_url) as session:
        _, new = rotate(session, "rot", timedelta(hours=1))
        revoke(session, "gone")
        set_expiry(session, "late", session.scalar(select(Account.created_at).where(Account.name == "late")))
    time.sleep(0.25)
    assert cache.lookup_sync(old).name == "rot"  # in its grace period
    assert cache.lookup_sync(new).name == "rot"
    assert cache.lookup_sync(gone) is None
    assert cache.lookup_sync(late) is None
    with session_scope(store_url) as session:
        rotate(session, "rot", timedelta(0))
    time.sleep(0.25)
    assert cache.lookup_sync(old) is None  # two rotations ago
    assert cache.lookup_sync(new) is None  # grace of zero


def test_a_wrong_key_is_401_on_reads_and_writes(app_client, accounts) -> None:
    bad = {"X-API-Key": "gg_not-a-key"}
    for method, path in [
        ("GET", "/v1/cases"),
        ("GET", "/v1/plans"),
        ("GET", "/collections"),
        ("POST", "/v1/reports"),
    ]:
        r = app_client.request(method, path, headers=bad, json={} if method == "POST" else None)
        assert r.status_code == 401, (path, r.status_code, r.text)
        assert r.json()["error"] == "not_authenticated"
    assert app_client.get("/v1/cases", headers={"X-API-Key": accounts["operator"]}).status_code == 200
    assert app_client.get("/v1/cases").status_code == 200


def test_cli_revoke_rotate_expire(store_url: str) -> None:
    from typer.testing import CliRunner

    from geogrid.cli import app

    runner = CliRunner()
    added = runner.invoke(app, ["user", "add", "cli-user", "--role", "reporter"])
    assert added.exit_code == 0, added.output
    rotated = runner.invoke(app, ["user", "rotate", "cli-user", "--grace-hours", "2"])
    assert rotated.exit_code == 0, rotated.output
    new_key = rotated.output.strip().splitlines()[-1]
    assert new_key.startswith("gg_") and new_key != added.output.strip().splitlines()[-1]
    assert runner.invoke(app, ["user", "expire", "cli-user", "--at", "2030-01-01"]).exit_code == 0
    assert runner.invoke(app, ["user", "expire", "cli-user", "--at", "soon"]).exit_code == 2
    assert runner.invoke(app, ["user", "revoke", "cli-user"]).exit_code == 0
    assert runner.invoke(app, ["user", "revoke", "nobody"]).exit_code == 2
    with session_scope(store_url) as session:
        account = session.scalar(select(Account).where(Account.name == "cli-user"))
        assert account.active is False and account.expires_at.year == 2030


def test_a_known_key_keeps_working_while_the_database_is_away() -> None:
    state = {"down": False}
    who = Principal(3, "c", "collector")

    def load(key: str) -> Principal | None:
        if state["down"]:
            raise ConnectionError("database away")
        return who

    cache = KeyCache(load=load, ttl=0.01, record_use=lambda ids: None)
    assert cache.lookup_sync("gg_known") == who
    state["down"] = True
    time.sleep(0.02)
    assert cache.lookup_sync("gg_known") == who  # stale answer beats a refusal
    try:
        cache.lookup_sync("gg_never-seen")
        raise AssertionError("an unknown key cannot be answered while the database is away")
    except ConnectionError:
        pass
