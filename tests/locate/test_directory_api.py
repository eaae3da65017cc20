"""Directory CRUD: role guards, phones hidden from the public, assignments visible in locate at once."""

from __future__ import annotations


def test_writes_need_operator_or_admin(client, keys) -> None:
    body = {"code": "u1", "name": "单位1"}
    anon = client.post("/v1/units", json=body)
    assert anon.status_code == 401 and anon.json()["details"][0]["field"] == "X-API-Key"
    reporter = client.post("/v1/units", json=body, headers={"X-API-Key": keys["reporter"]})
    assert reporter.status_code == 403
    ok = client.post("/v1/units", json=body, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert ok.status_code == 201
    dup = client.post("/v1/units", json=body, headers={"X-API-Key": keys["operator"]})
    assert dup.status_code == 409 and dup.json()["details"][0]["field"] == "code"
    assert [u["code"] for u in client.get("/v1/units").json()] == ["u1"]
    uid = ok.json()["id"]
    patched = client.patch(f"/v1/units/{uid}", json={"name": "单位一"}, headers={"X-API-Key": keys["operator"]})
    assert patched.json()["name"] == "单位一"
    assert client.delete(f"/v1/units/{uid}").status_code == 401
    assert client.delete(f"/v1/units/{uid}", headers={"X-API-Key": keys["operator"]}).status_code == 204
    assert client.get(f"/v1/units/{uid}").status_code == 404
    gone = client.delete(f"/v1/units/{uid}", headers={"X-API-Key": keys["operator"]})
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"


def test_phone_never_in_a_public_response(client, keys, jurisdiction) -> None:
    h = {"X-API-Key": keys["operator"]}
    person = client.post("/v1/people", json={"name": "张三", "phone": "13800000000"}, headers=h)
    assert person.status_code == 201 and person.json()["phone"] == "13800000000"
    pid = person.json()["id"]
    grid = jurisdiction.grids[3]
    a = client.post(
        "/v1/assignments",
        json={"layer": "responsibility", "grid_code": grid.code, "person_id": pid, "role": "网格员"},
        headers=h,
    )
    assert a.status_code == 201, a.text
    p = grid.geom.representative_point()
    for response in (
        client.get("/v1/people"),
        client.get(f"/v1/people/{pid}"),
        client.get("/v1/people", headers={"X-API-Key": keys["reporter"]}),
        client.get("/v1/assignments"),
        client.get("/v1/locate", params={"lon": p.x, "lat": p.y}),
        client.post("/v1/locate/batch", json=[[p.x, p.y]]),
    ):
        assert response.status_code == 200
        assert "13800000000" not in response.text
    assert client.get("/v1/people", headers=h).json()[0]["phone"] == "13800000000"
    located = client.get("/v1/locate", params={"lon": p.x, "lat": p.y}).json()
    assert located["grid"]["people"] == [{"name": "张三", "role": "网格员", "unit": None}]
    again = client.post(
        "/v1/assignments",
        json={"layer": "responsibility", "grid_code": grid.code, "person_id": pid, "role": "网格员"},
        headers=h,
    )
    assert again.status_code == 409


def test_bad_references_are_422(client, keys) -> None:
    h = {"X-API-Key": keys["operator"]}
    cases = [
        ("/v1/people", {"name": "李四", "unit_id": 9999}, "unit_id"),
        ("/v1/units", {"code": "x", "name": "x", "admin_area_code": "999"}, "admin_area_code"),
        ("/v1/assignments", {"layer": "nope", "grid_code": "1", "person_id": 1, "role": "网格员"}, "layer"),
        ("/v1/routing-rules", {"category": "event:01", "name": "x", "owner_unit": "ghost"}, "owner_unit"),
        ("/v1/routing-rules", {"category": "event:1", "name": "x"}, "category"),
        ("/v1/routing-rules", {"category": "event:01", "name": "x", "territorial_level": "city"}, "territorial_level"),
        ("/v1/time-limits", {"category": "event:01", "value": -1}, "value"),
        ("/v1/time-limits", {"category": "event:01", "value": 2, "unit": "weeks"}, "unit"),
    ]
    for path, body, field in cases:
        r = client.post(path, json=body, headers=h)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["details"][0]["field"] == field, r.json()


def test_rules_and_limits_crud_and_import(client, keys) -> None:
    h = {"X-API-Key": keys["operator"]}
    csv_text = "category,name,owner_unit,territorial_level\n事件:0102,暴露垃圾,,community\nevent:02,宣传广告,,grid\n"
    r = client.post("/v1/routing-rules/import", params={"format": "csv"}, content=csv_text.encode(), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["rules"] == 2
    rules = client.get("/v1/routing-rules").json()
    assert [(x["category"], x["territorial_level"]) for x in rules] == [
        ("event:0102", "community"),
        ("event:02", "grid"),
    ]
    bad = client.post(
        "/v1/routing-rules/import", params={"format": "yaml"}, content=b"rules: [{category: x}]", headers=h
    )
    assert bad.status_code == 422 and "row 1" in bad.json()["message"]
    lim = client.post("/v1/time-limits", json={"category": "event:0102", "value": 4, "unit": "hours"}, headers=h)
    assert lim.json()["urgency"] == "normal"
    assert client.delete(f"/v1/time-limits/{lim.json()['id']}", headers=h).status_code == 204
    assert client.get("/v1/time-limits").json() == []
    assert client.delete(f"/v1/routing-rules/{rules[0]['id']}", headers=h).status_code == 204
    assert len(client.get("/v1/routing-rules").json()) == 1
