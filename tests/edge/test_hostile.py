"""The hostile-input corpus of issue 10: every probe answers 4xx in the documented error shape, never a 500."""

from __future__ import annotations

import json

from tests.cases.conftest import report_body

NESTED = "[" * 30000 + "]" * 30000
PLAN_ITEMS = "/collections/plan.resp-v1/items"


def assert_error(r, statuses: tuple[int, ...] = (400, 401, 403, 404, 405, 409, 413, 422, 429)) -> dict | list:
    assert r.status_code in statuses, (r.request.method, r.request.url, r.status_code, r.text[:300])
    body = r.json()
    if r.request.url.path.startswith("/open311/"):
        assert isinstance(body, list) and body[0]["code"] == r.status_code and body[0]["description"]
    else:
        assert set(body) >= {"error", "message", "details"}, body
        assert "detail" not in body
    return body


def fields_of(body: dict) -> set[str]:
    return {d.get("field") for d in body.get("details", [])}


GET_PROBES = [
    ("/v1/cases?category=a%00b", "category"),
    ("/v1/cases?status=%01", "status"),
    (PLAN_ITEMS + "/%00", "path"),
    ("/v1/assignments?layer=%00", "layer"),
    ("/v1/cases?offset=9223372036854775808", "offset"),
    ("/v1/cases?offset=" + "9" * 5000, "offset"),
    (PLAN_ITEMS + "?offset=9223372036854775808", None),
    (PLAN_ITEMS + "?offset=" + "9" * 5000, None),
    ("/tiles/plan.resp-v1/1/%C2%B2/0.mvt", None),
    ("/tiles/plan.resp-v1/1/" + "9" * 5000 + "/0.mvt", None),
    ("/tiles/plan.resp-v1/1/5/0.mvt", None),  # x outside zoom 1's range
    ("/open311/v2/requests/%C2%B2.json", None),
    ("/open311/v2/requests/" + "9" * 5000 + ".json", None),
    ("/v1/cases/" + "9" * 5000, None),
    ("/v1/cases/%C2%B2", None),
    ("/v1/units?offset=-1", "offset"),
    ("/no/such/route", "path"),
]


def test_hostile_queries_and_paths(edge_client) -> None:
    for path, field in GET_PROBES:  # one app and one store for all of them (each store costs seconds)
        body = assert_error(edge_client.get(path))
        if field is not None:
            assert field in fields_of(body), (path, body)


def test_nul_in_bodies_names_the_field(edge_client, city, city_keys) -> None:
    reporter, admin = {"X-API-Key": city_keys["reporter"]}, {"X-API-Key": city_keys["admin"]}
    r = edge_client.post("/v1/reports", json=report_body(city.west, description="a\x00b"), headers=reporter)
    assert "description" in fields_of(assert_error(r, (422,)))
    r = edge_client.post("/v1/people", json={"name": "x\x00y"}, headers=admin)
    assert "name" in fields_of(assert_error(r, (422,)))
    r = edge_client.put(
        "/v1/grid-responsibilities", json={"layer": "\x00", "grid_code": "g", "unit_id": 1}, headers=admin
    )
    assert "layer" in fields_of(assert_error(r, (422,)))
    form = {"api_key": city_keys["reporter"], "service_code": "event:0102", "lat": "30.59", "long": "114.3"}
    r = edge_client.post("/open311/v2/requests.json", data={**form, "description": "a\x00b"})
    assert "description" in assert_error(r, (422,))[0]["description"]
    r = edge_client.post("/v1/reports", content=b'{"description": "\\u0000"}', headers=reporter)
    assert_error(r, (422,))


def test_control_characters_other_than_line_breaks(edge_client, city, city_keys) -> None:
    reporter = {"X-API-Key": city_keys["reporter"]}
    r = edge_client.post("/v1/reports", json=report_body(city.west, description="bell\x07"), headers=reporter)
    assert_error(r, (422,))
    ok = edge_client.post("/v1/reports", json=report_body(city.west, description="line\none\ttab"), headers=reporter)
    assert ok.status_code == 201, ok.text


def test_deeply_nested_json_is_a_4xx(edge_client, city_keys) -> None:
    nested_object = '{"a":' * 5000 + "1" + "}" * 5000
    for path in ("/v1/reports", "/v1/cases/1/accept", "/v1/route", "/v1/locate/batch", "/v1/people"):
        for body in (NESTED, nested_object):
            r = edge_client.post(path, content=body, headers={"X-API-Key": city_keys["admin"]})
            assert "nested" in assert_error(r, (422,))["message"]


def test_route_refuses_a_boolean_coordinate(edge_client) -> None:
    r = edge_client.post("/v1/route", json={"lon": 114.3, "lat": False, "category": "event:0102"})
    assert "lat" in fields_of(assert_error(r, (422,)))


def test_batch_body_over_the_limit_is_413_before_reading(edge_client) -> None:
    big = b"[" + b"[114.3,30.59]," * (40 * 1024 * 1024 // 14) + b"[114.3,30.59]]"
    r = edge_client.post("/v1/locate/batch", content=big, headers={"Content-Type": "application/json"})
    assert_error(r, (413,))

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(40):
            yield b" " * (1024 * 1024)

    r = edge_client.post("/v1/locate/batch", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(r, (413,))


def test_open311_post_length_limits(edge_client, city_keys) -> None:
    form = {"api_key": city_keys["reporter"], "service_code": "event:0102", "lat": "30.59", "long": "114.305"}
    for name, value in (("phone", "1" * 10_000), ("first_name", "x" * 5000), ("address_string", "a" * 10_000)):
        r = edge_client.post("/open311/v2/requests.json", data={**form, name: value})
        assert name in assert_error(r, (400, 422))[0]["description"], r.text


def test_wrong_key_and_unmatched_routes_share_the_error_shape(edge_client) -> None:
    for path in ("/v1/cases", "/v1/units", "/collections", "/tiles/plan.resp-v1/0/0/0.mvt", "/nothing-here"):
        r = edge_client.get(path, headers={"X-API-Key": "gg_wrong"})
        assert r.status_code == 401 and assert_error(r, (401,))["error"] == "not_authenticated"
    assert_error(edge_client.delete("/v1/cases"), (405,))
    r = edge_client.get("/open311/v2/requests.json", headers={"Authorization": "Bearer nope"})
    assert_error(r, (401,))


def test_security_headers(edge_client) -> None:
    r = edge_client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff" and "server" not in r.headers
    m = edge_client.get("/map/")
    assert "default-src 'self'" in m.headers.get("content-security-policy", "")


def test_bad_content_length_and_unparsable_json(edge_client, city_keys) -> None:
    r = edge_client.post("/v1/reports", content=b"{not json", headers={"X-API-Key": city_keys["reporter"]})
    assert_error(r, (422,))
    r = edge_client.post("/v1/route", content=json.dumps({"lon": "1e999999", "lat": 1}).encode())
    assert_error(r, (422,))
