"""Joint cases and duty: several units per grid by category, sites whose rules override the grid's, co-handling
units each with their own feedback, all through the API against PostGIS."""

from __future__ import annotations

import json

from shapely.geometry import box, mapping
from sqlalchemy import func, select
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.crs import wgs84_to_gcj02
from geogrid.store.db import session_scope
from geogrid.supervision.models import DutySite
from tests.cases.conftest import h
from tests.supervision.helpers import account, act, ok, report

WEST_SOUTH = "420102001001002"  # the grid holding city.west


def unit(client, key: str, code: str, name: str) -> int:
    return ok(client.post("/v1/units", json={"code": code, "name": name}, headers=h(key)), 201)["id"]


def rule(client, key: str, **body) -> dict:
    return ok(client.post("/v1/duty-rules", json=body, headers=h(key)), 201)


def test_grid_duty_by_category_gives_lead_and_co_handlers_each_with_feedback(client, city, keys):
    op = keys["operator"]
    lead = unit(client, op, "dept-scjg", "市场监管局")
    co = unit(client, op, "dept-jj", "交警大队")
    rule(client, op, scope="grid", layer="responsibility", grid_code=WEST_SOUTH, category="event:04",
         unit_code="dept-scjg", role="lead")  # fmt: skip
    rule(client, op, scope="grid", layer="responsibility", grid_code=WEST_SOUTH, category="event:04",
         unit_code="dept-jj", role="co")  # fmt: skip
    r = client.post("/v1/duty-rules", json={"scope": "grid", "layer": "responsibility", "grid_code": WEST_SOUTH,
                                            "category": "event:04", "unit_code": "dept-jj", "role": "lead"},
                    headers=h(op))  # fmt: skip
    assert r.status_code == 409  # one lead per grid and category

    routed = ok(client.post("/v1/route", json={"lon": city.west[0], "lat": city.west[1], "category": "event:0402"}))
    assert routed["unit"]["id"] == lead and [u["id"] for u in routed["co_units"]] == [co]
    assert routed["rule"]["duty"]["scope"] == "grid"
    other = ok(client.post("/v1/route", json={"lon": city.west[0], "lat": city.west[1], "category": "event:0102"}))
    assert other["unit"]["id"] == city.units["420102001001"] and other["co_units"] == []  # other categories: grid unit

    cid = report(client, keys["reporter"], city.west, category="event:0402")["id"]
    for action in ("accept", "file", "dispatch"):
        view = ok(act(client, cid, action, op))
    assert view["unit"]["id"] == lead and [c["unit"]["id"] for c in view["co_units"]] == [co]

    lead_key = account(city.url, "lead-unit", "unit", lead)
    co_key = account(city.url, "co-unit", "unit", co)
    ok(act(client, cid, "handle", lead_key))
    r = act(client, cid, "feedback", lead_key)
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "co_feedback"
    assert act(client, cid, "co-feedback", keys["unit_east"], note="x").status_code == 403  # not a co-handler
    assert act(client, cid, "co-feedback", co_key).status_code == 422  # feedback needs its text
    view = ok(act(client, cid, "co-feedback", co_key, note="已疏导交通"))
    assert view["status"] == "handling" and view["co_units"][0]["feedback"] == "已疏导交通"
    assert act(client, cid, "return", co_key).status_code == 403  # a co-handler does not act for the lead
    assert ok(act(client, cid, "feedback", lead_key, note="已取缔"))["status"] == "fed_back"


def test_site_rules_override_the_grid_and_owners_keep_components(client, city, keys):
    op = keys["operator"]
    scjg = unit(client, op, "dept-scjg", "市场监管局")
    jj = unit(client, op, "dept-jj", "交警大队")
    grid_unit = unit(client, op, "grid-team", "网格工作站")
    rule(client, op, scope="grid", layer="responsibility", grid_code=WEST_SOUTH, unit_code="grid-team")
    x, y = city.west
    market = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "m-1", "name": "大智农贸市场", "kind": "Market"},
         "geometry": mapping(box(x - 0.001, y - 0.001, x + 0.001, y + 0.001))},
        {"type": "Feature", "properties": {"code": "h-1", "name": "社区医院", "kind": "hospital"},
         "geometry": {"type": "Point", "coordinates": [x + 0.003, y]}},
    ]}  # fmt: skip
    assert ok(client.post("/v1/sites", json=market, headers=h(op)))["sites"] == 2
    bad = client.post("/v1/sites", json={"type": "FeatureCollection", "features": []}, headers=h(op))
    assert bad.status_code == 422
    rule(client, op, scope="site_kind", site_kind="market", unit_code="dept-scjg", role="lead")
    rule(client, op, scope="site_kind", site_kind="market", unit_code="dept-jj", role="co")
    rule(client, op, scope="site_kind", site_kind="market", unit_code="dept-cgzf", role="co")

    inside = ok(client.post("/v1/route", json={"lon": x, "lat": y, "category": "event:0402"}))
    assert inside["unit"]["id"] == scjg and {u["id"] for u in inside["co_units"]} == {jj, city.units["dept-cgzf"]}
    assert inside["rule"]["duty"]["scope"] == "site_kind"
    outside = ok(client.post("/v1/route", json={"lon": x + 0.0015, "lat": y, "category": "event:0402"}))
    assert outside["unit"]["id"] == grid_unit and outside["co_units"] == []  # same grid, outside the market
    component = ok(client.post("/v1/route", json={"lon": x, "lat": y, "category": "component:0101"}))
    assert component["unit"]["id"] == city.units["dept-cgzf"]  # 部件先属主: the owner stays lead
    assert {u["id"] for u in component["co_units"]} == {scjg, jj}
    sites = ok(client.get("/v1/sites?kind=hospital"))
    assert [f["properties"]["code"] for f in sites["features"]] == ["h-1"]
    assert sites["features"][0]["geometry"]["type"] == "MultiPolygon"  # the point became a 30 m disc


def test_sites_import_from_a_gcj02_file_by_the_cli(city, tmp_path):
    gx, gy = wgs84_to_gcj02(city.west[0], city.west[1])
    path = tmp_path / "parks.geojson"
    features = [{"type": "Feature", "properties": {"编码": "p-1", "名称": "江滩公园", "类型": "park"},
                 "geometry": {"type": "Point", "coordinates": [float(gx), float(gy)]}}]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(app, ["sites", "import", str(path), "--crs", "gcj02", "--radius-m", "20"])
    assert result.exit_code == 0, result.output
    with session_scope(city.url) as session:
        covers = func.ST_Covers(DutySite.geom, func.ST_SetSRID(func.ST_MakePoint(*city.west), 4490))
        assert session.scalar(select(DutySite.name).where(covers)) == "江滩公园"  # GCJ-02 undone: on the spot
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "x"},
                        "geometry": {"type": "Point", "coordinates": [1, 2]},
                    }
                ],
            }
        )
    )
    result = CliRunner().invoke(app, ["sites", "import", str(bad)])
    assert result.exit_code != 0 and "name" in result.output
