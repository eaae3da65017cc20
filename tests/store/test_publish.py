"""Publishing: refused with overlaps unless forced, retires the previous plan in the same instant, notifies
listeners, and is atomic: a concurrent reader never sees zero or two published plans in a layer."""

from __future__ import annotations

import json
import select
import threading

import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geogrid.store.db import get_engine
from geogrid.store.plans import NOTIFY_CHANNEL, publish_plan
from tests.store import sample
from tests.store.conftest import cli, ok, write

PUBLISHED = (
    "SELECT count(*) FROM plan p JOIN grid_layer l ON l.id = p.layer_id WHERE l.name = %s AND p.status = 'published'"
)


def _raw(url: str):
    """A plain psycopg2 connection in autocommit: every statement sees the latest committed state."""
    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database)
    conn.autocommit = True
    return conn


def _plans(url: str) -> dict[str, dict]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT name, status, valid_from, valid_to FROM plan")).mappings().all()
    return {r["name"]: dict(r) for r in rows}


def _import(tmp_path, grids, plan: str, layer: str = "unit") -> None:
    ok("import", "grids", write(grids, tmp_path, plan, "gpkg"), "--layer", layer, "--plan", plan)


def test_publish_refuses_overlaps_and_crossings_unless_forced(admin_loaded: str, tmp_path) -> None:
    grids, _ = sample.planted_grids()
    _import(tmp_path, grids, "planted")
    refused = cli("plan", "publish", "planted", "--note", "first try")
    assert refused.exit_code != 0
    assert "not published" in refused.output and "overlap" in refused.output
    assert "cross their community border" in refused.output and "--force" in refused.output
    assert _plans(admin_loaded)["planted"]["status"] == "draft"

    forced = ok("plan", "publish", "planted", "--force", "--note", "overlaps accepted for now")
    assert "forced despite" in forced.output
    plan = _plans(admin_loaded)["planted"]
    assert plan["status"] == "published" and plan["valid_from"] is not None


def test_publish_retires_previous_in_the_same_instant_and_notifies(admin_loaded: str, tmp_path) -> None:
    _import(tmp_path, sample.clean_grids(), "v1")
    _import(tmp_path, sample.clean_grids(), "v2")
    listener = _raw(admin_loaded)
    listener.cursor().execute(f"LISTEN {NOTIFY_CHANNEL}")
    try:
        assert "version 1" in ok("plan", "publish", "v1", "--note", "v1").output
        assert "retired v1" in ok("plan", "publish", "v2", "--note", "v2").output
        payloads = []
        while len(payloads) < 2 and select.select([listener], [], [], 10)[0]:
            listener.poll()
            payloads += [n.payload for n in listener.notifies]
            listener.notifies.clear()
    finally:
        listener.close()
    assert payloads == ["unit", "unit"]
    plans = _plans(admin_loaded)
    assert plans["v1"]["status"] == "retired" and plans["v2"]["status"] == "published"
    assert plans["v1"]["valid_to"] == plans["v2"]["valid_from"]  # one transaction: no instant without a plan
    assert "already published" in ok("plan", "publish", "v2", "--note", "again").output

    listed = {p["name"]: p for p in json.loads(ok("plan", "list", "--json").stdout)}
    assert (listed["v1"]["status"], listed["v2"]["status"]) == ("retired", "published")
    assert listed["v2"]["version"] == 2 and listed["v2"]["grids"] == 8
    assert listed["v2"]["validation"]["overlaps"] == 0
    text_list = ok("plan", "list").output
    assert "published" in text_list and "v2" in text_list

    ok("plan", "retire", "v2")
    assert _plans(admin_loaded)["v2"]["status"] == "retired"


def test_publish_is_atomic_under_a_concurrent_reader(admin_loaded: str, tmp_path) -> None:
    _import(tmp_path, sample.clean_grids(), "A")
    _import(tmp_path, sample.clean_grids(), "B")
    rounds = 30
    seen: list[int] = []
    errors: list[BaseException] = []
    reads = threading.Semaphore(0)
    done = threading.Event()

    def reader() -> None:
        conn = _raw(admin_loaded)
        try:
            cur = conn.cursor()
            while not done.is_set():
                cur.execute(PUBLISHED, ("unit",))
                seen.append(cur.fetchone()[0])
                reads.release()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            reads.release()
        finally:
            conn.close()

    def writer() -> None:
        try:
            for i in range(rounds):
                reads.acquire()  # interleave: the reader runs between (and during) publishes
                publish_plan(admin_loaded, "A" if i % 2 == 0 else "B")
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(seen) >= rounds
    first = seen.index(1)
    assert set(seen[:first]) == {0}
    assert set(seen[first:]) == {1}, sorted(set(seen[first:]))
    plans = _plans(admin_loaded)
    assert (plans["A"]["status"], plans["B"]["status"]) == ("retired", "published")


def test_concurrent_publishers_serialise_on_the_layer_lock(admin_loaded: str, tmp_path) -> None:
    for name in ("A", "B", "C"):
        _import(tmp_path, sample.clean_grids(), name)
    errors: list[BaseException] = []

    def publisher(names: tuple[str, ...]) -> None:
        try:
            for i in range(12):
                publish_plan(admin_loaded, names[i % len(names)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publisher, args=(n,)) for n in (("A", "B"), ("C", "A"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    statuses = sorted(p["status"] for p in _plans(admin_loaded).values())
    assert statuses == ["published", "retired", "retired"]
