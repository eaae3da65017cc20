"""OGC API – Tiles: the WebMercatorQuad tiles are the /tiles ones; CGCS2000Quad tiles hold the grids they cover."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from tests.maps.conftest import LAT0, LON0, STEP, MapStore
from tests.maps.test_tiles import codes_in, decode, tile_of


def test_web_mercator_tiles_equal_the_existing_tile_path(map_store: MapStore) -> None:
    c = TestClient(create_app())
    z = 14
    x, y = tile_of(LON0 + 1.5 * STEP, LAT0 + 1.0 * STEP, z)
    ogc = c.get(f"/collections/grids.unit/tiles/WebMercatorQuad/{z}/{x}/{y}")
    old = c.get(f"/tiles/grids.unit/{z}/{x}/{y}.mvt")
    assert ogc.status_code == old.status_code == 200
    assert ogc.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert codes_in(ogc.content) == codes_in(old.content) != set() and ogc.headers["etag"] == old.headers["etag"]
    props = decode(ogc.content)["grids"]["features"][0]["properties"]
    assert {"code", "name", "tier", "community_name"} <= set(props)
    admin = c.get(f"/collections/admin.street/tiles/WebMercatorQuad/{z}/{x}/{y}")
    assert [f["properties"]["name"] for f in decode(admin.content)["street"]["features"]] == ["大智街道"]


def test_tileset_metadata_links_a_template_that_lands_on_the_same_tile(map_store: MapStore) -> None:
    c = TestClient(create_app())
    links = {link["rel"]: link["href"] for link in c.get("/collections/grids.unit").json()["links"]}
    tilesets = c.get(links["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]).json()["tilesets"]
    assert [t["links"][0]["href"].rsplit("/", 1)[1] for t in tilesets] == ["WebMercatorQuad", "CGCS2000Quad"]
    meta = c.get("/collections/grids.unit/tiles/WebMercatorQuad").json()
    assert meta["dataType"] == "vector" and meta["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    item = next(link for link in meta["links"] if link["rel"] == "item")
    z = 15
    x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, z)
    limits = {m["tileMatrix"]: m for m in meta["tileMatrixSetLimits"]}[str(z)]
    assert limits["minTileCol"] <= x <= limits["maxTileCol"] and limits["minTileRow"] <= y <= limits["maxTileRow"]
    href = item["href"].format(tileMatrix=z, tileRow=y, tileCol=x)  # filled in by name, as OGC clients do
    assert codes_in(c.get(href).content) == codes_in(c.get(f"/tiles/grids.unit/{z}/{x}/{y}.mvt").content)
    tms = c.get("/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) > 20
    assert {t["id"] for t in c.get("/tileMatrixSets").json()["tileMatrixSets"]} == {"WebMercatorQuad", "CGCS2000Quad"}
    tilejson = c.get(links["describedby"]).json()
    assert tilejson["tiles"][0].endswith("/collections/grids.unit/tiles/WebMercatorQuad/{z}/{x}/{y}")


def test_cgcs2000_tiles_hold_the_grids_they_cover(map_store: MapStore) -> None:
    c = TestClient(create_app())
    tms = c.get("/tileMatrixSets/CGCS2000Quad").json()
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/4490" and tms["tileMatrices"][0]["matrixWidth"] == 2
    z = 15
    size = 180.0 / (1 << z)  # 2^(z+1) columns by 2^z rows of square tiles, counted from (-180°, 90°)
    lon, lat = LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP
    x, y = int((lon + 180) / size), int((90 - lat) / size)
    bounds = shapely.box(-180 + x * size, 90 - (y + 1) * size, -180 + (x + 1) * size, 90 - y * size)
    r = c.get(f"/collections/grids.unit/tiles/CGCS2000Quad/{z}/{x}/{y}")
    assert r.status_code == 200 and r.headers["etag"]
    want = {code for code, poly in map_store.cells.items() if poly.intersection(bounds).area > 0}
    assert want and want <= codes_in(r.content)
    assert (
        c.get(
            f"/collections/grids.unit/tiles/CGCS2000Quad/{z}/{x}/{y}", headers={"If-None-Match": r.headers["etag"]}
        ).status_code
        == 304
    )


def test_tile_errors(map_store: MapStore) -> None:
    c = TestClient(create_app())
    assert c.get("/collections/grids.unit/tiles/WebMercatorQuad/3/9/0").status_code == 404
    assert c.get("/collections/grids.unit/tiles/WebMercatorQuad/23/0/0").status_code == 404
    assert c.get("/collections/grids.unit/tiles/NoSuchQuad/3/1/1").status_code == 404
    bad = c.get("/collections/grids.unit/tiles/WebMercatorQuad/3/x/1")
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "tileCol"
    assert c.get("/collections/grids.unit/tiles/WebMercatorQuad/3/1/1?foo=1").status_code == 400
    assert c.get("/collections/nope/tiles/WebMercatorQuad/3/1/1").status_code == 404
    draft = f"/collections/plan.{map_store.draft}/tiles/CGCS2000Quad/3/1/1"
    assert c.get(draft).status_code == 401
    assert c.get(draft, headers={"X-API-Key": map_store.planner_key}).status_code == 200
