"""Vector tiles decode to the right features; ETags revalidate; publishing a plan invalidates the tile cache."""

from __future__ import annotations

import math
import time

import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.main import create_app
from geogrid.store.db import session_scope
from tests.maps.conftest import LAT0, LON0, STEP, MapStore, cell, publish_by_rows


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_bounds(z: int, x: int, y: int) -> shapely.Polygon:
    n = 1 << z

    def lat(yy: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return shapely.box(x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data) if data else {}


def codes_in(data: bytes, layer: str = "grids") -> set[str]:
    return {f["properties"]["code"] for f in decode(data).get(layer, {}).get("features", [])}


def test_tile_holds_exactly_the_grids_it_covers(map_store: MapStore) -> None:
    c = TestClient(create_app())
    z = 14
    x, y = tile_of(LON0 + 1.5 * STEP, LAT0 + 1.0 * STEP, z)
    r = c.get(f"/tiles/grids.unit/{z}/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    bounds = tile_bounds(z, x, y)
    inside = {code for code, poly in map_store.cells.items() if poly.intersection(bounds).area > 0}
    margin = (bounds.bounds[2] - bounds.bounds[0]) * 64 / 4096
    near = {code for code, poly in map_store.cells.items() if poly.intersects(bounds.buffer(margin))}
    got = codes_in(r.content)
    assert inside and inside <= got <= near
    feature = decode(r.content)["grids"]["features"][0]
    assert feature["properties"]["tier"] in {"A", "B", "C"}
    assert feature["properties"]["community_name"] in {"长春社区", "球场社区"}


def test_tile_neighbours_and_admin_layers(map_store: MapStore) -> None:
    c = TestClient(create_app())
    z = 15
    x0, y0 = tile_of(LON0 + 0.1 * STEP, LAT0 + 1.9 * STEP, z)
    x1, y1 = tile_of(LON0 + 2.9 * STEP, LAT0 + 0.1 * STEP, z)
    seen: set[str] = set()
    for x in range(x0, x1 + 1):  # every tile over the block, rendered through metatiles and the cache
        for y in range(y0, y1 + 1):
            seen |= codes_in(c.get(f"/tiles/grids.unit/{z}/{x}/{y}.mvt").content)
    assert seen == set(map_store.cells)
    streets = c.get(f"/tiles/admin.street/{z}/{x0}/{y0}.mvt")
    assert [f["properties"]["name"] for f in decode(streets.content)["street"]["features"]] == ["大智街道"]
    outside = c.get("/tiles/grids.unit/14/0/0.mvt")
    assert outside.status_code == 200 and codes_in(outside.content) == set()


def test_etag_revalidates_with_304(map_store: MapStore) -> None:
    c = TestClient(create_app())
    x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, 14)
    first = c.get(f"/tiles/grids.unit/14/{x}/{y}.mvt")
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = c.get(f"/tiles/grids.unit/14/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = c.get(f"/tiles/grids.unit/14/{x}/{y}.mvt", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


def test_publishing_a_plan_invalidates_cached_tiles(map_store: MapStore) -> None:
    app = create_app()
    c = TestClient(app)
    x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, 14)
    url = f"/tiles/grids.unit/14/{x}/{y}.mvt"
    before = c.get(url)
    assert codes_in(before.content) <= set(map_store.cells) and codes_in(before.content)
    assert app.state.maps.listener.connected.wait(10)
    new_code = "420102001001900"
    publish_by_rows(map_store.url, "unit", "江岸区-2026-修订", {new_code: cell(0, 0, 3 * STEP)}, version=3)
    deadline, after = time.monotonic() + 10, before
    while time.monotonic() < deadline and codes_in(after.content) != {new_code}:
        time.sleep(0.1)
        after = c.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and codes_in(after.content) == {new_code}
    assert after.headers["etag"] != before.headers["etag"]
    # the retired plan stays reachable as its own version
    old = c.get(f"/tiles/plan.{map_store.published}/14/{x}/{y}.mvt")
    assert codes_in(old.content) == codes_in(before.content)
    assert app.state.maps.notifications >= 1


def test_draft_tiles_need_a_planner_and_bad_tiles_are_422(map_store: MapStore) -> None:
    c = TestClient(create_app())
    x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, 14)
    url = f"/tiles/plan.{map_store.draft}/14/{x}/{y}.mvt"
    assert c.get(url).status_code == 401
    ok = c.get(url, headers={"X-API-Key": map_store.planner_key})
    assert ok.status_code == 200 and codes_in(ok.content) <= set(map_store.draft_cells) and codes_in(ok.content)
    assert "private" in ok.headers["cache-control"]
    bad = c.get("/tiles/grids.unit/3/9/0.mvt")
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "z/x/y"
    tj = c.get("/tiles/grids.unit.json").json()
    assert tj["tiles"][0].endswith("/tiles/grids.unit/{z}/{x}/{y}.mvt") and tj["vector_layers"][0]["id"] == "grids"


def test_admin_edits_reach_the_tiles_without_a_notification(
    map_store: MapStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEOGRID_CATALOG_TTL", "0.3")
    c = TestClient(create_app())
    x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, 14)
    url = f"/tiles/admin.street/14/{x}/{y}.mvt"
    names = lambda r: [f["properties"]["name"] for f in decode(r.content)["street"]["features"]]  # noqa: E731
    assert names(c.get(url)) == ["大智街道"]
    with session_scope(map_store.url) as s:
        s.execute(text("UPDATE admin_area SET name = '大智街道（新）' WHERE level = 'street'"))
    time.sleep(0.4)
    assert names(c.get(url)) == ["大智街道（新）"]


def test_an_unreachable_store_is_a_503_not_a_500(map_store: MapStore) -> None:
    app = create_app()
    c = TestClient(app)
    c.get("/collections")
    assert app.state.maps.listener.connected.wait(10)  # its reconnect reset has happened
    assert c.get("/collections/grids.unit").status_code == 200  # catalogue cached again
    app.state.maps._engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, 14)
    r = c.get(f"/tiles/grids.unit/14/{x}/{y}.mvt")
    assert r.status_code == 503 and r.json()["details"][0]["field"] == "store"
