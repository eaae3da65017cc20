"""Staffing rules through the API and the CLI: roles from a configurable list, one 网格长 per grid, grids that
exist, minimum members per grid, reported per grid (JSON, GeoJSON for the map) and by ``geogrid staff check``."""

from __future__ import annotations

from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.store.db import session_scope
from geogrid.store.models import GridAssignment, GridLayer
from tests.cases.conftest import h
from tests.supervision.helpers import ok

GRID = "420102001001001"


def test_assignments_follow_the_rules_and_the_report_lists_every_grid(client, city, keys, monkeypatch):
    op = keys["operator"]
    people = [ok(client.post("/v1/people", json={"name": n}, headers=h(op)), 201)["id"] for n in ("王", "李", "张")]

    def assign(person: int, role: str, grid: str = GRID):
        body = {"layer": "responsibility", "grid_code": grid, "person_id": person, "role": role}
        return client.post("/v1/assignments", json=body, headers=h(op))

    ok(assign(people[0], "网格长"), 201)
    r = assign(people[1], "网格长")
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "role"
    r = assign(people[1], "随便")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "role"
    r = assign(people[1], "网格员", grid="999999999999999")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "grid_code"
    ok(assign(people[1], "网格员"), 201)
    monkeypatch.setenv("GEOGRID_STAFF_ROLES", "网格长,网格员,巡查员")
    ok(assign(people[2], "巡查员", grid="420102001002001"), 201)  # a role added by configuration

    with session_scope(city.url) as session:  # a legacy row to a grid no plan has
        layer = session.query(GridLayer.id).filter(GridLayer.name == "responsibility").scalar()
        session.add(GridAssignment(layer_id=layer, grid_code="420102009009009", person_id=people[2], role="网格员"))

    report = ok(client.get("/v1/staffing"))
    by_code = {g["grid_code"]: g for g in report["grids"]}
    assert by_code[GRID]["ok"] is True and by_code[GRID]["members"] == 2
    assert by_code["420102001002001"]["problems"] == ["no 网格长", "1 member(s), fewer than 2"]
    assert by_code["420102001001002"]["problems"] == ["no 网格长", "0 member(s), fewer than 2"]
    assert [o["grid_code"] for o in report["orphan_assignments"]] == ["420102009009009"]
    layer = ok(client.get("/v1/staffing?format=geojson&problems=true"))
    assert len(layer["features"]) == 3 and layer["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert client.get("/v1/staffing?layer=nope").status_code == 422

    result = CliRunner().invoke(app, ["staff", "check"])
    assert result.exit_code == 1
    assert "420102001002002: no 网格长; 0 member(s), fewer than 2" in result.stdout
    assert "4 grids, 3 with problems, 1 orphan assignments" in result.stdout


def test_the_map_has_a_separate_supervision_overlay(client):
    script = client.get("/map/supervision.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "v1/patrols" in script.text and "v1/staffing?format=geojson" in script.text
