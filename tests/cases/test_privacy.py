"""Reporter identity and contact reach operators only; public views round coordinates to ~10 m."""

from __future__ import annotations

from tests.cases.conftest import h, report_body

CONTACT, NAME = "13912345678", "李四"


def test_views_by_role(client, city, keys):
    point = (city.west[0] + 0.0000123, city.west[1] + 0.0000456)
    body = report_body(point, contact=CONTACT, reporter_name=NAME)
    r = client.post("/v1/reports", json=body, headers=h(keys["reporter"]))
    assert r.status_code == 201
    cid = r.json()["id"]
    assert CONTACT not in r.text and NAME not in r.text  # the reporter's own answer is a public view

    op = client.get(f"/v1/cases/{cid}", headers=h(keys["operator"]))
    assert op.json()["reporter"]["contact"] == CONTACT and op.json()["reporter"]["name"] == NAME
    assert op.json()["location"]["lon"] == point[0] and op.json()["location"]["rounded"] is False
    assert op.json()["history"][0]["actor_account_id"] is not None

    # issue 10: staff see only their own cases; a unit once the case is dispatched to it, planners none
    assert client.get(f"/v1/cases/{cid}", headers=h(keys["unit_west"])).status_code == 404
    assert client.get(f"/v1/cases/{cid}", headers=h(keys["planner"])).status_code == 404
    for action in ("accept", "file", "dispatch"):
        assert client.post(f"/v1/cases/{cid}/{action}", json={}, headers=h(keys["operator"])).status_code == 200
    assert client.get(f"/v1/cases/{cid}", headers=h(keys["unit_east"])).status_code == 404
    assert client.get(f"/v1/cases/{cid}", headers=h(keys["planner"])).status_code == 404
    for role in ("unit_west",):
        staff = client.get(f"/v1/cases/{cid}", headers=h(keys[role]))
        assert staff.status_code == 200
        assert CONTACT not in staff.text and NAME not in staff.text and "reporter" not in staff.json()
        assert staff.json()["location"]["lon"] == point[0]
        assert "actor_account_id" not in staff.json()["history"][0]

    for headers in ({}, h(keys["public"]), h(keys["reporter2"])):
        pub = client.get(f"/v1/cases/{cid}", headers=headers)
        assert pub.status_code == 200
        assert CONTACT not in pub.text and NAME not in pub.text
        loc = pub.json()["location"]
        assert loc["rounded"] is True
        assert loc["lon"] == round(point[0], 4) and loc["lat"] == round(point[1], 4)
        assert abs(loc["lon"] - point[0]) <= 0.00005 and loc["lon"] != point[0]
        assert "photos" not in pub.json() and "actor_account_id" not in pub.json()["history"][0]

    listed = client.get("/v1/cases")
    assert listed.status_code == 200 and CONTACT not in listed.text
    assert listed.json()["cases"][0]["location"]["lon"] == round(point[0], 4)
    assert CONTACT in client.get("/v1/cases", headers=h(keys["operator"])).text
