"""Bad input: non-zero exit, a message naming the file, field or feature, and a store left exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from tests.store import sample
from tests.store.conftest import cli, counts, ok, write


def _grid_file(tmp_path: Path, **columns) -> Path:
    frame = gpd.GeoDataFrame(columns, geometry=[sample.cell(0, 0, 500, 1000)], crs=4490)
    path = tmp_path / "one.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def _gbk_shapefile(tmp_path: Path) -> Path:
    return write(sample.clean_grids(), tmp_path, "gbk", "shp")


def _empty_geojson(tmp_path: Path) -> Path:
    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    return path


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("网格 list, not a map\n")
    return path


def _lines(tmp_path: Path) -> Path:
    path = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"code": ["R1"]}, geometry=[shapely.LineString([(114.3, 30.5), (114.4, 30.6)])], crs=4490).to_file(
        path, driver="GPKG"
    )
    return path


def _street_with_unknown_parent(tmp_path: Path) -> Path:
    streets = sample.admin_frames()["street"].assign(parent=["999999", "420102"])
    return write(streets, tmp_path, "streets", "shp")


GRIDS = ["grids", "--layer", "u", "--plan", "p"]
# (name, file builder, extra CLI args, words the message must contain)
CASES = [
    ("not geospatial", _text_file, GRIDS, ["notes.txt", "not a readable"]),
    ("unknown crs", _gbk_shapefile, [*GRIDS, "--crs", "mars"], ["unknown CRS", "mars"]),
    ("bad epsg", _gbk_shapefile, [*GRIDS, "--crs", "EPSG:999999"], ["999999"]),
    ("empty layer", _empty_geojson, GRIDS, ["empty.geojson", "empty"]),
    ("missing field", _gbk_shapefile, [*GRIDS, "--encoding", "gbk", "--code-field", "NOPE"],
     ["gbk.shp", "'NOPE'", "编码"]),
    ("no code field", lambda p: _grid_file(p, foo=["x"], bar=["y"]), GRIDS,
     ["one.gpkg", "no code field", "foo, bar", "--code-field"]),
    ("wrong encoding", _gbk_shapefile, GRIDS, ["gbk.shp", "--encoding gbk"]),
    ("utf-8 on gbk", _gbk_shapefile, [*GRIDS, "--encoding", "utf-8"], ["gbk.shp"]),
    ("bad tier", lambda p: _grid_file(p, code=["G1"], tier=["Z"]), GRIDS, ["one.gpkg", "feature 0", "'Z'", "'tier'"]),
    ("blank code", lambda p: _grid_file(p, code=[None], name=["x"]), GRIDS, ["one.gpkg", "feature(s) 0", "'code'"]),
    ("lines", _lines, GRIDS, ["roads.gpkg", "feature 0", "no polygon"]),
    ("unknown level", _gbk_shapefile, ["admin", "--level", "city", "--encoding", "gbk"], ["unknown admin level"]),
    ("unknown parent", _street_with_unknown_parent, ["admin", "--level", "street", "--encoding", "gbk"],
     ["streets.shp", "feature 0", "'999999'", "'上级'", "not a district"]),
    ("no such file", lambda p: p / "missing.shp", GRIDS, ["missing.shp"]),
]  # fmt: skip


@pytest.mark.parametrize(("build", "args", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_import_exits_non_zero_names_the_problem_and_leaves_the_store(admin_loaded, tmp_path, build, args, words):
    ok("import", "grids", write(sample.clean_grids(), tmp_path, "first", "gpkg"), "--layer", "unit", "--plan", "v1")
    before = counts(admin_loaded)
    result = cli("import", args[0], build(tmp_path), *args[1:])
    assert result.exit_code != 0
    for word in words:
        assert word in result.output, result.output
    assert "nothing was imported" in result.output
    assert counts(admin_loaded) == before


def test_duplicate_plan_name_is_refused_and_changes_nothing(admin_loaded, tmp_path) -> None:
    path = write(sample.clean_grids(), tmp_path, "grids", "gpkg")
    ok("import", "grids", path, "--layer", "unit", "--plan", "v1")
    before = counts(admin_loaded)
    result = cli("import", "grids", path, "--layer", "other", "--plan", "v1")
    assert result.exit_code != 0 and "'v1' exists already" in result.output
    assert counts(admin_loaded) == before  # not even the new layer 'other'


@pytest.mark.parametrize("command", [["validate", "nope"], ["publish", "nope", "--note", "x"], ["retire", "nope"]])
def test_unknown_plan(admin_loaded, tmp_path, command) -> None:
    ok("import", "grids", write(sample.clean_grids(), tmp_path, "g", "gpkg"), "--layer", "unit", "--plan", "v1")
    before = counts(admin_loaded)
    result = cli("plan", *command)
    assert result.exit_code != 0
    assert "unknown plan 'nope'" in result.output and "v1" in result.output
    assert counts(admin_loaded) == before
