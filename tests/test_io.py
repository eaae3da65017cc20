"""Reading planners' files: encodings, declared and undeclared CRSs, and clear errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geogrid import crs
from geogrid.io import InputError, read_vector, require_fields

BOX = shapely.box(106.70, 26.57, 106.71, 26.58)


def frame(name: str = "花果园社区") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["520102001001"], "name": [name]}, geometry=[BOX], crs=4490)


def test_gbk_shapefile_in_gauss_kruger(tmp_path: Path) -> None:
    path = tmp_path / "communities.shp"
    frame().to_crs(4545).to_file(path, encoding="gbk")
    (tmp_path / "communities.cpg").unlink(missing_ok=True)  # real files often have no .cpg
    out = read_vector(path, encoding="gbk")
    assert out.crs.to_epsg() == 4490
    assert out["name"].iloc[0] == "花果园社区"
    assert shapely.symmetric_difference(out.geometry.iloc[0], BOX).area < 1e-12


def test_wrong_encoding_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "communities.shp"
    frame().to_file(path, encoding="gbk")
    (tmp_path / "communities.cpg").unlink(missing_ok=True)
    with pytest.raises(InputError, match=r"communities\.shp.*--encoding gbk"):
        read_vector(path, encoding="utf-8")
    with pytest.raises(InputError, match=r"communities\.shp: field 'name' of feature 0.*--encoding gbk"):
        read_vector(path)  # no .cpg, no --encoding: GDAL would hand back Latin-1 mojibake


def test_crs_less_geojson_in_gcj02(tmp_path: Path) -> None:
    offset = shapely.transform(BOX, lambda c: np.column_stack(crs.wgs84_to_gcj02(c[:, 0], c[:, 1])))
    path = tmp_path / "boundary.geojson"
    path.write_text(gpd.GeoSeries([offset]).to_json(), encoding="utf-8")
    as_wgs84 = read_vector(path)
    converted = read_vector(path, crs="gcj02")
    assert shapely.symmetric_difference(converted.geometry.iloc[0], BOX).area < 1e-14
    assert as_wgs84.geometry.iloc[0].distance(BOX) > 0.002 or not as_wgs84.geometry.iloc[0].equals(BOX)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not a map"), "not a readable geospatial file"),
        (lambda p: None, "no such file"),
        (lambda p: frame().iloc[:0].to_file(p, driver="GPKG"), "empty"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "input.gpkg"
    make(path)
    with pytest.raises(InputError, match=message) as info:
        read_vector(path)
    assert "input.gpkg" in str(info.value)


def test_unknown_crs_and_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "grids.gpkg"
    frame().to_file(path, driver="GPKG")
    with pytest.raises(InputError, match="unknown CRS"):
        read_vector(path, crs="mars")
    with pytest.raises(InputError, match="no field 'tier'.*code, name"):
        require_fields(read_vector(path), path, "code", "tier")


def test_geoparquet(tmp_path: Path) -> None:
    path = tmp_path / "grids.parquet"
    frame().to_parquet(path)
    assert read_vector(path)["code"].iloc[0] == "520102001001"
