"""Exports read back with pyogrio: same grids, Chinese names intact in UTF-8 and GBK Shapefiles."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.maps.conftest import MapStore


def download(path: str, tmp_path: Path, name: str, **params) -> Path:
    r = TestClient(create_app()).get(path, params=params)
    assert r.status_code == 200, r.text
    target = tmp_path / name
    target.write_bytes(r.content)
    return target


@pytest.mark.parametrize("fmt,name", [("geojson", "grids.geojson"), ("gpkg", "grids.gpkg")])
def test_geojson_and_geopackage_hold_the_plan(map_store: MapStore, tmp_path: Path, fmt: str, name: str) -> None:
    path = download(f"/v1/exports/plan.{map_store.published}", tmp_path, name, format=fmt)
    frame = pyogrio.read_dataframe(path)
    assert sorted(frame["code"]) == sorted(map_store.cells)
    assert set(frame["community_name"]) == {"长春社区", "球场社区"}
    assert set(frame["plan"]) == {map_store.published}
    assert frame.crs.to_epsg() in (4326, 4490)
    by_code = frame.set_index("code").geometry
    for code, poly in map_store.cells.items():
        assert by_code[code].symmetric_difference(poly).area < 1e-10


@pytest.mark.parametrize("encoding,cpg", [("utf-8", "UTF-8"), ("gbk", "GBK")])
def test_zipped_shapefile_keeps_chinese_names(map_store: MapStore, tmp_path: Path, encoding: str, cpg: str) -> None:
    r = TestClient(create_app()).get("/v1/exports/grids.unit", params={"format": "shp", "encoding": encoding})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        assert {"grids.shp", "grids.shx", "grids.dbf", "grids.prj", "grids.cpg"} <= names
        assert zf.read("grids.cpg").decode().strip() == cpg
        dbf = zf.read("grids.dbf")
        zf.extractall(tmp_path)
    assert "长春社区".encode("gbk" if encoding == "gbk" else "utf-8") in dbf
    frame = pyogrio.read_dataframe(tmp_path / "grids.shp")
    assert sorted(frame["code"]) == sorted(map_store.cells)
    assert set(frame["comm_name"]) == {"长春社区", "球场社区"}
    assert set(frame["plan"]) == {map_store.published}


def test_export_rejects_unknown_format_and_gbk_geojson(map_store: MapStore) -> None:
    c = TestClient(create_app())
    bad = c.get("/v1/exports/grids.unit", params={"format": "kml"})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "format"
    gbk = c.get("/v1/exports/grids.unit", params={"format": "geojson", "encoding": "gbk"})
    assert gbk.status_code == 422 and gbk.json()["details"][0]["field"] == "encoding"
    assert c.get(f"/v1/exports/plan.{map_store.draft}", params={"format": "gpkg"}).status_code == 401
    admin = c.get("/v1/exports/admin.community", params={"format": "geojson"})
    assert admin.status_code == 200 and "球场社区" in admin.text
