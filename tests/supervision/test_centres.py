"""Centres by level: operators scoped to a district or street, reporting up with a reason, street closures filed to
the district (备案), on-the-spot handling reported to the street (报备), all through the API."""

from __future__ import annotations

from shapely.geometry import box

from geogrid.store.db import session_scope
from geogrid.store.models import AdminArea
from tests.cases.conftest import ewkt, h, png_bytes, report_body
from tests.supervision.helpers import account, act, ok, report


def other_street(url: str) -> int:
    with session_scope(url) as session:
        area = AdminArea(
            level="street", code="420102002", name="别的街道", geom=ewkt(box(114.40, 30.58, 114.41, 30.59))
        )
        session.add(area)
        session.flush()
        return area.id


def test_street_and_district_centres_see_act_report_up_and_file(client, city, keys):
    street = account(city.url, "street-op", "operator", admin_area_id=city.areas["420102001"])
    district = account(city.url, "district-op", "operator", admin_area_id=city.areas["420102"])
    stranger = account(city.url, "other-op", "operator", admin_area_id=other_street(city.url))

    cid = report(client, keys["reporter"], city.west)["id"]
    assert report(client, keys["reporter"], city.east, channel="hotline")["centre_level"] == "district"
    assert [c["id"] for c in ok(client.get("/v1/cases", headers=h(stranger)))["cases"]] == []
    assert client.get(f"/v1/cases/{cid}", headers=h(stranger)).status_code == 404
    assert act(client, cid, "accept", stranger).status_code == 404
    assert len(ok(client.get("/v1/cases", headers=h(street)))["cases"]) == 2

    ok(act(client, cid, "accept", street))
    r = act(client, cid, "report-up", street)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "note"
    view = ok(act(client, cid, "report-up", street, note="涉及区级职能部门，街道无权处置"))
    assert view["status"] == "filed" and view["centre_level"] == "district"
    assert act(client, cid, "dispatch", street).status_code == 403  # the street only watches it now
    assert ok(client.get(f"/v1/cases/{cid}", headers=h(street)))["id"] == cid
    ok(act(client, cid, "dispatch", district))
    notes = ok(client.get(f"/v1/notifications?case_id={cid}", headers=h(keys["operator"])))["notifications"]
    escalated = [n for n in notes if n["type"] == "case.escalated"]
    assert escalated and escalated[0]["event"]["data"]["reason"] == "涉及区级职能部门，街道无权处置"

    local = report(client, keys["reporter"], city.east, description="街道自办")["id"]
    for action in ("accept", "file"):
        ok(act(client, local, action, street))
    ok(act(client, local, "close", street, close_type="special"))
    filings = ok(client.get("/v1/filings", headers=h(district)))["filings"]
    assert [(f["case_id"], f["kind"], f["to_area_id"]) for f in filings] == [(local, "closure", city.areas["420102"])]
    assert ok(client.get("/v1/filings", headers=h(stranger)))["filings"] == []
    assert client.post(f"/v1/filings/{filings[0]['id']}/acknowledge", headers=h(stranger)).status_code == 404
    acked = ok(client.post(f"/v1/filings/{filings[0]['id']}/acknowledge", headers=h(district)))
    assert acked["acknowledged_at"] is not None
    assert ok(client.get("/v1/filings?pending=true", headers=h(district)))["filings"] == []


def test_on_the_spot_handling_is_one_step_with_photos_and_counted_apart(client, city, keys):
    body = {k: str(v) for k, v in report_body(city.west, category="event:0104", description="路面散落垃圾").items()}
    before = ("photos_before", ("b.png", png_bytes(shade=1), "image/png"))
    after = ("photos_after", ("a.png", png_bytes(shade=2), "image/png"))
    url = "/v1/reports/on-the-spot"
    r = client.post(url, data=body, files=[before], headers=h(keys["collector"]))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "photos_after"
    assert client.post(url, data=body, files=[before, after], headers=h(keys["reporter"])).status_code == 403
    key = h(keys["collector"], **{"Idempotency-Key": "spot-1"})
    view = ok(client.post(url, data=body, files=[before, after], headers=key), 201)
    assert view["status"] == "closed" and view["on_spot"] is True and view["channel"] == "collector"
    assert [e["action"] for e in view["history"]] == ["report", "close_on_spot"]
    assert sorted(p["kind"] for p in view["photos"]) == ["after", "report"]
    again = client.post(url, data=body, files=[before, after], headers=key)
    assert again.status_code == 201 and again.json()["id"] == view["id"] and again.headers["Idempotent-Replayed"]
    generic = act(client, view["id"], "close-on-spot", keys["collector"])
    assert generic.status_code == 422

    filings = ok(client.get("/v1/filings?kind=on_spot", headers=h(keys["operator"])))["filings"]
    assert [(f["case_id"], f["to_area_id"]) for f in filings] == [(view["id"], city.areas["420102001"])]
    stats = ok(client.get("/v1/stats", headers=h(keys["operator"])))["rows"]
    assert sum(r["on_spot"] for r in stats) == 1 and sum(r["due"] for r in stats) == 0
