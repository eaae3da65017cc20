"""Open311 GeoReport v2 round trip on the same cases, with Open311's error format."""

from __future__ import annotations

from tests.cases.conftest import h


def test_round_trip(client, city, keys):
    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"]: s for s in services}
    assert codes["event:0102"]["service_name"] == "暴露垃圾" and codes["event:0102"]["metadata"] is False

    form = {
        "api_key": keys["reporter"],
        "service_code": "event:0102",
        "lat": str(city.west[1] + 0.0000321),
        "long": str(city.west[0] + 0.0000321),
        "description": "垃圾桶满溢",
        "email": "someone@example.org",
        "phone": "13700000000",
        "first_name": "王",
    }
    r = client.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "o311-1"})
    assert r.status_code == 201, r.text
    [created] = r.json()
    rid = created["service_request_id"]
    assert "西社区工作站" in created["service_notice"]
    again = client.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "o311-1"})
    assert again.json()[0]["service_request_id"] == rid

    [one] = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert one["status"] == "open" and one["service_code"] == "event:0102" and one["description"] is None
    assert one["lat"] == round(city.west[1] + 0.0000321, 4) and one["long"] == round(city.west[0] + 0.0000321, 4)
    text = client.get(f"/open311/v2/requests/{rid}.json").text
    assert "13700000000" not in text and "example.org" not in text and "垃圾桶满溢" not in text  # free text private
    op_view = client.get(f"/v1/cases/{rid}", headers=h(keys["operator"])).json()
    assert op_view["reporter"]["contact"] == "13700000000, someone@example.org"  # the same case, natively

    listed = client.get("/open311/v2/requests.json", params={"service_code": "event:0102", "status": "open"}).json()
    assert [x["service_request_id"] for x in listed] == [rid]
    for action in ("accept", "file", "dispatch"):
        assert client.post(f"/v1/cases/{rid}/{action}", json={}, headers=h(keys["operator"])).status_code == 200
    [dispatched] = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert dispatched["agency_responsible"] == "西社区工作站" and dispatched["expected_datetime"] is not None
    client.post(f"/v1/cases/{rid}/close", json={"close_type": "special"}, headers=h(keys["operator"]))
    [closed] = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert closed["status"] == "closed" and closed["status_notes"] == "special"
    assert client.get("/open311/v2/requests.json", params={"status": "open"}).json() == []
    assert len(client.get("/open311/v2/requests.json", params={"status": "closed"}).json()) == 1


def test_errors_in_open311_format(client, city, keys):
    cases = [
        (client.get("/open311/v2/requests/424242.json"), 404),
        (client.get("/open311/v2/requests.json", params={"status": "pending"}), 400),
        (client.get("/open311/v2/requests.json", params={"start_date": "yesterday"}), 400),
        (
            client.post(
                "/open311/v2/requests.json", data={"service_code": "event:0102", "lat": "30.5", "long": "114.3"}
            ),
            403,
        ),
        (client.post("/open311/v2/requests.json", data={"api_key": "nope", "service_code": "event:0102"}), 403),
        (
            client.post("/open311/v2/requests.json", data={"api_key": keys["reporter"], "service_code": "event:0102"}),
            400,
        ),
        (
            client.post("/open311/v2/requests.json", data={"api_key": keys["operator"], "service_code": "event:0102"}),
            403,
        ),
        (
            client.post(
                "/open311/v2/requests.json",
                data={"api_key": keys["reporter"], "service_code": "垃圾", "lat": "30.59", "long": "114.305"},
            ),
            400,
        ),
        (
            client.post(
                "/open311/v2/requests.json",
                data={"api_key": keys["reporter"], "service_code": "event:0102", "lat": "31.5", "long": "114.305"},
            ),
            400,
        ),
    ]
    for resp, status in cases:
        assert resp.status_code == status, resp.text
        body = resp.json()
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    assert "lat" in cases[5][0].json()[0]["description"]
