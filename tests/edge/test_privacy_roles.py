"""Privacy by default (issue 10): no reporter free text on public paths, role-scoped staff views, photos follow."""

from __future__ import annotations

from sqlalchemy import select

from geogrid.store.db import session_scope
from geogrid.store.models import Account, GridAssignment, GridLayer, Person, Unit
from tests.cases.conftest import png_bytes, report_body

ADDRESS, DESCRIPTION, PHONE = "兴和路12号3单元501", "楼下垃圾 电话13912345678", "13912345678"


def _report(client, city, key: str) -> int:
    body = report_body(city.west, description=DESCRIPTION, address=ADDRESS, contact=PHONE)
    r = client.post("/v1/reports", json=body, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_no_free_text_on_public_paths_until_an_operator_approves_a_summary(edge_client, city, city_keys) -> None:
    cid = _report(edge_client, city, city_keys["reporter"])
    public_paths = [f"/v1/cases/{cid}", "/v1/cases", "/open311/v2/requests.json", f"/open311/v2/requests/{cid}.json"]
    for path in public_paths:
        r = edge_client.get(path)
        assert r.status_code == 200, (path, r.text)
        for text in (ADDRESS, DESCRIPTION, PHONE, "兴和路"):
            assert text not in r.text, (path, text)
    view = edge_client.get(f"/v1/cases/{cid}").json()
    assert view["description"] is None and view["address"] is None and view["location"]["rounded"] is True
    op = {"X-API-Key": city_keys["operator"]}
    assert edge_client.get(f"/v1/cases/{cid}", headers=op).json()["address"] == ADDRESS

    anon = edge_client.put(f"/v1/cases/{cid}/public-summary", json={"public_summary": "路边垃圾待清运"})
    assert anon.status_code == 401
    r = edge_client.put(f"/v1/cases/{cid}/public-summary", json={"public_summary": "路边垃圾待清运"}, headers=op)
    assert r.status_code == 200, r.text
    assert edge_client.get(f"/v1/cases/{cid}").json()["description"] == "路边垃圾待清运"
    assert edge_client.get(f"/open311/v2/requests/{cid}.json").json()[0]["description"] == "路边垃圾待清运"
    assert ADDRESS not in edge_client.get(f"/v1/cases/{cid}").text


def test_staff_see_their_own_cases_only(edge_client, city, city_keys) -> None:
    keyed = {role: {"X-API-Key": key} for role, key in city_keys.items()}
    mine = _report(edge_client, city, city_keys["collector"])
    other = _report(edge_client, city, city_keys["reporter"])

    def ids(role: str) -> set[int]:
        r = edge_client.get("/v1/cases", headers=keyed[role])
        assert r.status_code == 200
        return {c["id"] for c in r.json()["cases"]}

    assert ids("collector") == {mine}
    assert ids("planner") == set() and edge_client.get(f"/v1/cases/{mine}", headers=keyed["planner"]).status_code == 404
    assert ids("unit_west") == set()  # routed to it but not yet dispatched
    for action in ("accept", "file", "dispatch"):
        assert edge_client.post(f"/v1/cases/{other}/{action}", json={}, headers=keyed["operator"]).status_code == 200
    assert ids("unit_west") == {other} and ids("unit_east") == set()
    assert edge_client.get(f"/v1/cases/{other}", headers=keyed["unit_east"]).status_code == 404

    with session_scope(city.url) as session:  # the collector is assigned to the case's grid: now it sees it
        layer = session.scalar(select(GridLayer).where(GridLayer.name == "responsibility"))
        grid_code = edge_client.get(f"/v1/cases/{other}", headers=keyed["operator"]).json()["grid_code"]
        unit = session.scalar(select(Unit.id).limit(1))
        acc = session.scalar(select(Account).where(Account.name == "h-collector"))
        person = Person(name="网格员甲", unit_id=unit, account_id=acc.id)
        session.add(person)
        session.flush()
        session.add(GridAssignment(layer_id=layer.id, grid_code=grid_code, person_id=person.id, role="网格员"))
    assert ids("collector") == {mine, other}


def test_photos_follow_the_case_view(edge_client, city, city_keys) -> None:
    files = {"photos": ("p.png", png_bytes(), "image/png")}
    data = {k: str(v) for k, v in report_body(city.west).items()}
    r = edge_client.post("/v1/reports", data=data, files=files, headers={"X-API-Key": city_keys["reporter"]})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    op = {"X-API-Key": city_keys["operator"]}
    photo = edge_client.get(f"/v1/cases/{cid}", headers=op).json()["photos"][0]["id"]
    url = f"/v1/cases/{cid}/photos/{photo}"
    got = edge_client.get(url, headers=op)
    assert got.status_code == 200 and got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert edge_client.get(url).status_code == 401
    assert edge_client.get(url, headers={"X-API-Key": city_keys["planner"]}).status_code == 403
    assert edge_client.get(url, headers={"X-API-Key": city_keys["unit_east"]}).status_code == 404


def test_directory_lists_honour_offset_and_limit(edge_client, city_keys) -> None:
    op = {"X-API-Key": city_keys["operator"]}
    everything = edge_client.get("/v1/units", headers=op).json()
    assert len(everything) >= 3
    assert edge_client.get("/v1/units?offset=1", headers=op).json() == everything[1:]
    assert edge_client.get("/v1/units?offset=1&limit=1", headers=op).json() == everything[1:2]
