"""OGC API – Features Part 3 (queryables, property filters, CQL2), strict parameters, HEAD and HTML pages.

Expected answers are recomputed from the fixture's own cells with shapely, never read back from the API.
"""

from __future__ import annotations

import json

import pytest
import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from tests.maps.conftest import LAT0, LON0, STEP, MapStore

TIERS = ["A", "B", "C", "A", "B", "C"]
WEST, EAST = "420102001001", "420102001002"


@pytest.fixture
def c(map_store: MapStore) -> TestClient:
    return TestClient(create_app())


def facts(store: MapStore) -> dict[str, dict]:
    """code -> tier, community code and polygon, as the fixture built them (cells in insertion order)."""
    return {
        code: {"tier": TIERS[k], "community": code[:12], "poly": poly}
        for k, (code, poly) in enumerate(store.cells.items())
    }


def ids(c: TestClient, **params) -> set[str]:
    r = c.get("/collections/grids.unit/items", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"])
    return {f["id"] for f in body["features"]}


def test_queryables_are_a_json_schema_of_the_filterable_properties(c: TestClient) -> None:
    r = c.get("/collections/grids.unit/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    doc = r.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc["type"] == "object"
    assert doc["$id"].endswith("/collections/grids.unit/queryables") and doc["additionalProperties"] is False
    props = doc["properties"]
    assert props["tier"]["enum"] == ["A", "B", "C"] and props["area_m2"]["type"] == "number"
    assert props["geometry"]["format"] == "geometry-multipolygon"
    admin = c.get("/collections/admin.community/queryables").json()["properties"]
    assert "parent_code" in admin and "tier" not in admin
    links = {link["rel"]: link["href"] for link in c.get("/collections/grids.unit").json()["links"]}
    assert links["http://www.opengis.net/def/rel/ogc/1.0/queryables"].endswith("/grids.unit/queryables")


def test_simple_property_filters(c: TestClient, map_store: MapStore) -> None:
    f = facts(map_store)
    assert ids(c, tier="A") == {k for k, v in f.items() if v["tier"] == "A"} != set()
    west_a = {k for k, v in f.items() if v["tier"] == "A" and v["community"] == WEST}
    assert ids(c, tier="A", community_code=WEST) == west_a
    assert ids(c, community_name="球场社区") == {k for k, v in f.items() if v["community"] == EAST}
    assert ids(c, area_m2="1000000") == set(f) and ids(c, area_m2="5") == set()
    assert ids(c, code="does-not-exist") == set()


def test_cql2_text_comparisons_and_spatial(c: TestClient, map_store: MapStore) -> None:
    f = facts(map_store)
    west_ab = {k for k, v in f.items() if v["tier"] in "AB" and v["community"] == WEST}
    assert ids(c, filter=f"tier IN ('A', 'B') AND community_code = '{WEST}'") == west_ab
    assert ids(c, filter="NOT (tier = 'C') OR tier IS NULL") == {k for k, v in f.items() if v["tier"] != "C"}
    assert ids(c, filter="area_m2 > 5 AND diameter_m BETWEEN 1000 AND 1500") == set(f)
    assert ids(c, filter="name LIKE '00%' AND 1 < area_m2") == set(f)
    point = (LON0 + 2.5 * STEP, LAT0 + 1.5 * STEP)
    want = {k for k, v in f.items() if v["poly"].intersects(shapely.Point(point))}
    assert len(want) == 1
    assert ids(c, filter=f"S_INTERSECTS(geometry, POINT({point[0]} {point[1]}))") == want
    # the same point in EPSG:4326 axis order (latitude first) through filter-crs
    lat_first = f"S_INTERSECTS(geometry, POINT({point[1]} {point[0]}))"
    assert ids(c, filter=lat_first, **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}) == want
    box = (LON0 + 0.2 * STEP, LAT0 + 0.2 * STEP, LON0 + 1.5 * STEP, LAT0 + 0.8 * STEP)
    in_box = {k for k, v in f.items() if v["poly"].intersects(shapely.box(*box))}
    got = ids(c, filter=f"S_INTERSECTS(geometry, BBOX({','.join(map(str, box))})) AND tier <> 'C'")
    assert got == {k for k in in_box if f[k]["tier"] != "C"} and len(got) == 2


def test_cql2_json_and_filters_combined_with_bbox_and_paging(c: TestClient, map_store: MapStore) -> None:
    f = facts(map_store)
    expr = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "tier"}, "B"]},
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [LON0, LAT0, LON0 + 3 * STEP, LAT0 + 2 * STEP]}],
            },
        ],
    }
    want = {k for k, v in f.items() if v["tier"] == "B"}
    assert ids(c, filter=json.dumps(expr), **{"filter-lang": "cql2-json"}) == want
    page = c.get("/collections/grids.unit/items", params={"filter": "tier <> 'A'", "limit": 1}).json()
    assert page["numberMatched"] == 4 and page["numberReturned"] == 1
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "filter=" in nxt  # the filter travels with the paging links


def test_a_filter_is_data_never_sql(c: TestClient, map_store: MapStore) -> None:
    assert ids(c, filter="code = '; DROP TABLE grid; --'") == set()
    assert ids(c, filter="name = 'x\" OR 1=1 --'") == set()
    assert ids(c, name="'; DELETE FROM grid; --") == set()
    assert len(ids(c)) == len(map_store.cells)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tier": "D"}, "tier"),
        ({"area_m2": "big"}, "area_m2"),
        ({"filter": "tier = "}, "filter"),
        ({"filter": "phone = '1'"}, "filter"),
        ({"filter": "tier > 5"}, "filter"),
        ({"filter": "area_m2 LIKE '1%'"}, "filter"),
        ({"filter": "geometry = 'x'"}, "filter"),
        ({"filter": "S_INTERSECTS(geometry, POINT(200 95))"}, "filter"),
        ({"filter": "S_WITHIN(geometry, POINT(106 26))"}, "filter"),
        ({"filter": "tier = 'A'", "filter-lang": "ecql"}, "filter-lang"),
        ({"filter": "tier = 'A'", "filter-crs": "EPSG:3857"}, "filter-crs"),
        ({"filter-lang": "cql2-text"}, "filter"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "filter"),
        ({"limit": "1e3"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"f": "xml"}, "f"),
        ({"sortby": "code"}, "sortby"),
        ({"Tier": "A"}, "Tier"),
    ],
)
def test_every_bad_or_unknown_parameter_is_a_400_naming_it(c: TestClient, params: dict, field: str) -> None:
    r = c.get("/collections/grids.unit/items", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_parameter" and body["message"]
    assert [d["field"] for d in body["details"]] == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conformance",
        "/collections",
        "/collections/grids.unit",
        "/collections/grids.unit/queryables",
        "/collections/grids.unit/items/420102001001001",
    ],
)
def test_unknown_parameters_elsewhere_are_400_too(c: TestClient, path: str) -> None:
    assert c.get(path).status_code == 200
    r = c.get(path, params={"limit": "1", "foo": "bar"})
    assert r.status_code == 400 and r.json()["details"][0]["field"] in {"limit", "foo"}


def test_head_answers_wherever_get_does(c: TestClient) -> None:
    for path in [
        "/",
        "/collections",
        "/collections/grids.unit/items?tier=A",
        "/collections/grids.unit/queryables",
        "/v1/locate?lon=114.305&lat=30.555",
        "/conformance?f=html",
    ]:
        got, head = c.get(path), c.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))
    assert c.head("/collections/nope").status_code == 404


def test_html_pages_for_people(c: TestClient, map_store: MapStore) -> None:
    code = sorted(map_store.cells)[0]
    for path, needle in [
        ("/", "Collections"),
        ("/conformance", "ogcapi-features-3/1.0/conf/filter"),
        ("/collections", "grids.unit"),
        ("/collections/grids.unit", "Browse the features"),
        ("/collections/grids.unit/queryables", "community_code"),
        ("/collections/grids.unit/items?tier=A", code),
        (f"/collections/grids.unit/items/{code}", "长春社区"),
    ]:
        r = c.get(path + ("&" if "?" in path else "?") + "f=html")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert needle in r.text, path
    page = c.get("/collections/grids.unit/items", params={"f": "html", "tier": "A"}).text
    assert "maplibre-gl.js" in page and page.count("<tr>") == 1 + 2  # header row and the two tier-A grids
    browser = c.get("/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert c.get("/collections", headers={"Accept": "application/json"}).headers["content-type"] == "application/json"
