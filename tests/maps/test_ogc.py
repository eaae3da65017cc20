"""OGC API – Features over the test store, through FastAPI's TestClient."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from api.main import create_app
from tests.maps.conftest import LAT0, LON0, PHONE, STEP, MapStore


def client() -> TestClient:
    return TestClient(create_app())


def test_landing_and_conformance_link_the_collections(map_store: MapStore) -> None:
    c = client()
    rels = {link["rel"]: link["href"] for link in c.get("/").json()["links"]}
    assert rels["data"].endswith("/collections") and rels["conformance"].endswith("/conformance")
    conf = c.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf


def test_drafts_are_listed_for_planners_only(map_store: MapStore) -> None:
    c = client()
    public = {col["id"] for col in c.get("/collections").json()["collections"]}
    assert {"grids.unit", f"plan.{map_store.published}", "admin.district", "admin.community"} <= public
    assert f"plan.{map_store.draft}" not in public
    planner = c.get("/collections", headers={"X-API-Key": map_store.planner_key}).json()["collections"]
    draft = next(col for col in planner if col["id"] == f"plan.{map_store.draft}")
    assert draft["plan"]["status"] == "draft"
    assert c.get(f"/collections/plan.{map_store.draft}/items").status_code == 401
    denied = c.get(f"/collections/plan.{map_store.draft}/items", headers={"X-API-Key": map_store.reporter_key})
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    ok = c.get(f"/collections/plan.{map_store.draft}/items", headers={"X-API-Key": map_store.planner_key})
    assert {f["id"] for f in ok.json()["features"]} == set(map_store.draft_cells)


def test_collection_reports_extent_and_plan_metrics(map_store: MapStore) -> None:
    doc = client().get("/collections/grids.unit").json()
    x0, y0, x1, y1 = doc["extent"]["spatial"]["bbox"][0]
    assert abs(x0 - LON0) < 1e-9 and abs(y1 - (LAT0 + 2 * STEP)) < 1e-9
    assert doc["plan"]["name"] == map_store.published and doc["plan"]["report"]["grids"] == len(map_store.cells)
    assert doc["extent"]["temporal"]["interval"][0][0].startswith("2026-01-01")


def test_paging_walks_every_feature_once_and_counts_them(map_store: MapStore) -> None:
    c = client()
    url, seen = "/collections/grids.unit/items?limit=4", []
    while url:
        page = c.get(url).json()
        assert page["numberMatched"] == len(map_store.cells) and page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert sorted(seen) == sorted(map_store.cells)


def test_bbox_selects_the_cells_it_meets(map_store: MapStore) -> None:
    inner = (LON0 + 0.2 * STEP, LAT0 + 0.2 * STEP, LON0 + 1.5 * STEP, LAT0 + 0.8 * STEP)
    got = client().get("/collections/grids.unit/items", params={"bbox": ",".join(map(str, inner))}).json()
    want = {code for code, poly in map_store.cells.items() if poly.intersects(shapely.box(*inner))}
    assert {f["id"] for f in got["features"]} == want and len(want) == 2
    # The same box lat-first in EPSG:4326 order gives the same answer.
    lat_first = (inner[1], inner[0], inner[3], inner[2])
    again = client().get(
        "/collections/grids.unit/items", params={"bbox": ",".join(map(str, lat_first)), "bbox-crs": "EPSG:4326"}
    )
    assert {f["id"] for f in again.json()["features"]} == want


def test_properties_crs_and_single_item(map_store: MapStore) -> None:
    c = client()
    code = next(iter(map_store.cells))
    page = c.get("/collections/grids.unit/items", params={"properties": "code,tier", "limit": 1}).json()
    assert set(page["features"][0]["properties"]) == {"code", "tier"}
    r = c.get(f"/collections/grids.unit/items/{code}", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4490"})
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    feature = r.json()
    assert feature["properties"]["community_name"] == "长春社区"
    lat_lon = shape(feature["geometry"])
    lon_lat = shapely.transform(lat_lon, lambda xy: xy[:, ::-1])
    assert lon_lat.symmetric_difference(map_store.cells[code]).area < 1e-12 and lon_lat.area > 0
    crs84 = c.get(f"/collections/grids.unit/items/{code}")
    assert crs84.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert shape(crs84.json()["geometry"]).buffer(0).symmetric_difference(map_store.cells[code]).area < 1e-12
    assert c.get("/collections/grids.unit/items/nope").status_code == 404


def test_datetime_filters_against_plan_validity(map_store: MapStore) -> None:
    c = client()
    before = c.get("/collections/grids.unit/items", params={"datetime": "2025-06-01T00:00:00Z"}).json()
    after = c.get("/collections/grids.unit/items", params={"datetime": "2026-03-01T00:00:00Z"}).json()
    spanning = c.get("/collections/grids.unit/items", params={"datetime": "2025-01-01T00:00:00Z/.."}).json()
    assert before["numberReturned"] == 0
    assert after["numberReturned"] == len(map_store.cells) == spanning["numberReturned"]


def test_bad_parameters_name_the_field(map_store: MapStore) -> None:
    c = client()
    for params, field in [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "114.4,30,114.3,31"}, "bbox"),
        ({"crs": "EPSG:3857"}, "crs"),
        ({"properties": "code,phone"}, "properties"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"limit": "0"}, "limit"),
    ]:
        r = c.get("/collections/grids.unit/items", params=params)
        assert r.status_code == 400, params
        assert field in {d["field"] for d in r.json()["details"]}, r.json()
    assert c.get("/collections/nope/items").status_code == 404


def test_grid_info_names_units_but_never_phones(map_store: MapStore) -> None:
    code = next(iter(map_store.cells))
    r = client().get(f"/v1/grids/unit/{code}")
    body = r.json()
    assert r.status_code == 200 and PHONE not in r.text
    assert body["community"]["name"] == "长春社区" and body["street"]["name"] == "大智街道"
    assert body["people"][0]["role"] == "网格长"
    assert [u["name"] for u in body["units"]] == ["长春社区网格工作站", "江岸区城管执法大队", "大智街道办事处"]
    assert [u["via"] for u in body["units"]] == ["grid", "assignment", "territory (street)"]
    assert client().get("/v1/grids/unit/000").status_code == 404
