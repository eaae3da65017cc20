"""The index follows the store: rebuilt on NOTIFY (LISTEN thread), or by the fingerprint poll without one."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from geogrid.store.db import session_scope
from tests.locate.conftest import build_jurisdiction, publish


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    """Poll until ``predicate`` holds (a wait, not a timing assertion: the bound only stops a hung test)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _second_plan(jurisdiction):
    """The same cells under new codes (plan v2 renumbers the grids: 9xx sequences)."""
    _, grids, _ = build_jurisdiction()
    for g in grids:
        g.code = g.code[:12] + "9" + g.code[13:]
    return grids


def test_publish_with_notify_switches_the_served_plan(client, jurisdiction) -> None:
    g = jurisdiction.grids[5]
    p = g.geom.representative_point()
    params = {"lon": p.x, "lat": p.y}
    assert client.get("/v1/locate", params=params).json()["grid"]["code"] == g.code
    v2 = _second_plan(jurisdiction)
    with session_scope(jurisdiction.url) as session:
        publish(session, "responsibility", "resp-v2", v2, jurisdiction.area_ids, notify=True)
    new_code = g.code[:12] + "9" + g.code[13:]
    # polling is set to an hour in this fixture: only the LISTEN thread can make this happen
    assert _wait_for(lambda: client.get("/v1/locate", params=params).json()["grid"]["code"] == new_code)
    body = client.get("/v1/locate", params=params).json()
    assert body["grid"]["plan"] == {"name": "resp-v2", "version": 2}


def test_without_notify_the_fingerprint_poll_catches_up(jurisdiction, monkeypatch) -> None:
    monkeypatch.setenv("GEOGRID_LOCATE_LISTEN", "0")
    monkeypatch.setenv("GEOGRID_LOCATE_POLL_SECONDS", "0.2")
    from api.main import create_app

    g = jurisdiction.grids[7]
    p = g.geom.representative_point()
    params = {"lon": p.x, "lat": p.y}
    with TestClient(create_app()) as client:
        assert client.get("/v1/locate", params=params).json()["grid"]["code"] == g.code
        with session_scope(jurisdiction.url) as session:
            publish(session, "responsibility", "resp-v2", _second_plan(jurisdiction), jurisdiction.area_ids, False)
        new_code = g.code[:12] + "9" + g.code[13:]
        assert _wait_for(lambda: client.get("/v1/locate", params=params).json()["grid"]["code"] == new_code)


def test_library_locate_sees_a_new_plan(jurisdiction) -> None:
    from geogrid.routing import locate

    g = jurisdiction.grids[2]
    p = g.geom.representative_point()
    with session_scope(jurisdiction.url) as session:
        assert locate(session, p.x, p.y).grid["code"] == g.code
    with session_scope(jurisdiction.url) as session:
        publish(session, "responsibility", "resp-v2", _second_plan(jurisdiction), jurisdiction.area_ids, False)
    with session_scope(jurisdiction.url) as session:
        result = locate(session, p.x, p.y)
    assert result.grid["code"] == g.code[:12] + "9" + g.code[13:]
    assert result.to_dict()["layers"]["selfgov"]["code"] == g.community + "900"


def test_a_directory_write_in_one_worker_reaches_another(client, jurisdiction, keys) -> None:
    """Two apps stand for two worker processes: the write lands in one, NOTIFY refreshes the other."""
    from api.main import create_app

    g = jurisdiction.grids[4]
    p = g.geom.representative_point()
    params = {"lon": p.x, "lat": p.y}
    with TestClient(create_app()) as other:
        assert other.get("/v1/locate", params=params).json()["grid"]["unit"] is None
        h = {"X-API-Key": keys["operator"]}
        assert client.post("/v1/units", json={"code": "ws-9", "name": "工作站9"}, headers=h).status_code == 201
        body = {"layer": "responsibility", "grid_code": g.code, "unit_code": "ws-9"}
        assert client.put("/v1/grid-responsibilities", json=body, headers=h).status_code == 200

        def unit_code() -> str | None:
            return (other.get("/v1/locate", params=params).json()["grid"]["unit"] or {}).get("code")

        assert _wait_for(lambda: unit_code() == "ws-9")
