"""An independent OGC client (OWSLib) reads the collections and items from a live uvicorn."""

from __future__ import annotations

from owslib.ogcapi.features import Features

from tests.maps.conftest import LAT0, LON0, STEP, MapStore


def test_owslib_reads_collections_and_items(map_store: MapStore, live_server: str) -> None:
    api = Features(live_server)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"grids.unit", f"plan.{map_store.published}", "admin.street"} <= ids
    assert f"plan.{map_store.draft}" not in ids
    assert api.collection("grids.unit")["plan"]["version"] == 1
    items = api.collection_items("grids.unit", limit=10)
    assert sorted(f["id"] for f in items["features"]) == sorted(map_store.cells)
    box = [LON0 + 2.2 * STEP, LAT0 + 1.2 * STEP, LON0 + 2.8 * STEP, LAT0 + 1.8 * STEP]
    one = api.collection_items("grids.unit", bbox=box)
    assert [f["properties"]["community_name"] for f in one["features"]] == ["球场社区"]
    code = one["features"][0]["id"]
    assert api.collection_item("grids.unit", code)["properties"]["code"] == code
    streets = api.collection_items("admin.street")
    assert [f["properties"]["name"] for f in streets["features"]] == ["大智街道"]


def test_owslib_reads_queryables_and_filters(map_store: MapStore, live_server: str) -> None:
    api = Features(live_server)
    props = api.collection_queryables("grids.unit")["properties"]
    assert props["tier"]["enum"] == ["A", "B", "C"] and "community_name" in props and "geometry" in props
    tier_a = api.collection_items("grids.unit", tier="A")
    assert tier_a["numberMatched"] == 2 and {f["properties"]["tier"] for f in tier_a["features"]} == {"A"}
    cql = api.collection_items("grids.unit", filter="community_name = '球场社区' AND tier = 'C'")
    assert [f["properties"]["community_name"] for f in cql["features"]] == ["球场社区", "球场社区"]
