"""The whole workflow through the API: every transition, the side states, illegal moves, roles, history."""

from __future__ import annotations

from datetime import datetime

from geogrid.cases.calendar import load_calendar
from geogrid.store.db import session_scope
from tests.cases.conftest import h, png_bytes, report_body


def act(client, case_id, action, key, **body):
    return client.post(f"/v1/cases/{case_id}/{action}", json=body, headers=h(key))


def ok(resp, status="ok"):
    assert resp.status_code == 200, resp.text
    return resp.json()


def new_case(client, city, keys, **extra) -> int:
    r = client.post("/v1/reports", json=report_body(city.west, **extra), headers=h(keys["reporter"]))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_full_lifecycle_with_extension_rework_and_history(client, city, keys, media_dir):
    cid = new_case(client, city, keys)

    r = act(client, cid, "accept", keys["collector"])
    assert r.status_code == 403
    r = act(client, cid, "file", keys["operator"])
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "conflict" and body["state"] == "reported"
    assert sorted(a["action"] for a in body["allowed"]) == ["accept", "close_on_spot", "reject"]

    assert ok(act(client, cid, "accept", keys["operator"]))["status"] == "accepted"
    assert ok(act(client, cid, "verify", keys["collector"]))["status"] == "verified"
    assert ok(act(client, cid, "file", keys["operator"]))["status"] == "filed"
    view = ok(act(client, cid, "dispatch", keys["operator"]))
    assert view["status"] == "dispatched" and view["unit"]["id"] == city.units["420102001001"]
    dispatched = datetime.fromisoformat(view["dispatched_at"])
    due = datetime.fromisoformat(view["due_at"])
    with session_scope(city.url) as session:
        cal = load_calendar(session)
    assert due == cal.add(dispatched, 4, "hours")  # the routing rule's limit for event:0102 (4 working hours)
    assert cal.working_time(dispatched, due).total_seconds() == 4 * 3600

    assert act(client, cid, "handle", keys["unit_east"]).status_code == 403  # not their case
    assert ok(act(client, cid, "handle", keys["unit_west"]))["status"] == "handling"
    assert act(client, cid, "extension-request", keys["unit_west"], value=0).status_code == 422
    assert ok(act(client, cid, "extension-request", keys["unit_west"], value=1, unit="days"))["status"] == (
        "extension_requested"
    )
    assert act(client, cid, "feedback", keys["unit_west"]).status_code == 409  # waiting for the decision
    view = ok(act(client, cid, "extension-approve", keys["operator"]))
    assert view["status"] == "handling" and view["extension_count"] == 1
    assert datetime.fromisoformat(view["due_at"]) == cal.add(due, 1, "days")

    assert ok(act(client, cid, "feedback", keys["unit_west"]))["status"] == "fed_back"
    r = act(client, cid, "check", keys["collector"])
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "photo"
    photo = png_bytes(shade=1)
    r = client.post(
        f"/v1/cases/{cid}/check",
        data={"note": "现场已清理"},
        files={"photo": ("after.png", photo, "image/png")},
        headers=h(keys["collector"]),
    )
    view = ok(r)
    assert view["status"] == "checked"
    assert [p["kind"] for p in view["photos"]] == ["check"]
    assert sum(1 for p in media_dir.rglob("*.png")) == 1

    assert act(client, cid, "rework", keys["collector"]).status_code == 403  # from checked only operators
    view = ok(act(client, cid, "rework", keys["operator"], note="仍有垃圾"))
    assert view["status"] == "dispatched" and view["rework_count"] == 1
    ok(act(client, cid, "handle", keys["unit_west"]))
    ok(act(client, cid, "feedback", keys["unit_west"]))
    r = client.post(
        f"/v1/cases/{cid}/check",
        files={"photo": ("again.png", png_bytes(shade=2), "image/png")},
        headers=h(keys["collector"]),
    )
    ok(r)
    view = ok(act(client, cid, "close", keys["operator"], close_type="normal"))
    assert view["status"] == "closed" and view["close_type"] == "normal" and view["open"] is False

    r = act(client, cid, "close", keys["operator"])
    assert r.status_code == 409 and r.json()["allowed"] == []

    full = client.get(f"/v1/cases/{cid}", headers=h(keys["operator"])).json()
    actions = [e["action"] for e in full["history"]]
    assert actions == [
        "report", "accept", "verify", "file", "dispatch", "handle", "extension_request", "extension_approve",
        "feedback", "check", "rework", "handle", "feedback", "check", "close",
    ]  # fmt: skip
    times = [datetime.fromisoformat(e["at"]) for e in full["history"]]
    assert times == sorted(times)
    assert all(e["actor_account_id"] is not None for e in full["history"])
    roles = {e["action"]: e["role"] for e in full["history"]}
    assert roles["verify"] == "collector" and roles["handle"] == "unit" and roles["close"] == "operator"


def test_return_redispatch_park_and_special_closes(client, city, keys):
    cid = new_case(client, city, keys)
    for action in ("accept", "file", "dispatch"):
        ok(act(client, cid, action, keys["operator"]))
    assert ok(act(client, cid, "return", keys["unit_west"], note="不属本单位"))["status"] == "returned"
    assert act(client, cid, "dispatch", keys["operator"], unit_id=999999).status_code == 422
    view = ok(act(client, cid, "dispatch", keys["operator"], unit_id=city.units["420102001002"]))
    assert view["unit"]["id"] == city.units["420102001002"]
    assert act(client, cid, "handle", keys["unit_west"]).status_code == 403
    ok(act(client, cid, "handle", keys["unit_east"]))
    assert ok(act(client, cid, "park", keys["operator"]))["status"] == "parked"
    r = act(client, cid, "close", keys["operator"], close_type="normal")
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "close_type"
    assert ok(act(client, cid, "unpark", keys["operator"]))["status"] == "filed"
    view = ok(act(client, cid, "close", keys["operator"], close_type="special"))
    assert view["close_type"] == "special"

    other = new_case(client, city, keys, description="重复上报")
    assert ok(act(client, other, "reject", keys["operator"]))["status"] == "rejected"
    assert act(client, other, "accept", keys["operator"]).status_code == 409

    third = new_case(client, city, keys, description="误报")
    ok(act(client, third, "accept", keys["operator"]))
    assert ok(act(client, third, "close", keys["operator"], close_type="error"))["close_type"] == "error"


def test_bad_requests_are_clear_4xx(client, city, keys):
    cid = new_case(client, city, keys)
    r = act(client, cid, "teleport", keys["operator"])
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "action"
    assert act(client, 987654, "accept", keys["operator"]).status_code == 404
    r = act(client, cid, "accept", keys["operator"], bogus=1)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "bogus"
    assert client.post(f"/v1/cases/{cid}/accept").status_code == 401
    assert act(client, cid, "accept", keys["reporter"]).status_code == 403


def test_openapi_documents_the_bodies(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/reports"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    assert "category" in body["application/json"]["schema"]["properties"]
    assert "photos" in body["multipart/form-data"]["schema"]["properties"]
    assert "/v1/cases/{case_id}/{action}" in spec["paths"] and "/v1/stats" in spec["paths"]
