"""``geogrid partition-many`` on dask: outputs equal single ``geogrid partition`` runs, a rerun skips finished
districts, a partial file is never taken for done. Districts are the streets of a generated district."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.demo.district import small_district


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    d = small_district(seed=3).to_store()
    base = tmp_path_factory.mktemp("many")
    paths = {"roads": base / "roads.gpkg", "communities": base / "communities.geojson"}
    d.roads.to_file(paths["roads"], driver="GPKG")
    d.communities.to_file(paths["communities"], driver="GeoJSON")
    streets = d.streets[["code", "name", "geometry"]].reset_index(drop=True)
    paths["districts"] = base / "streets.geojson"
    streets.to_file(paths["districts"], driver="GeoJSON")
    codes = [streets.code.iloc[0], streets.code.iloc[-1]]  # two of the four: bounded time
    for code in codes:
        paths[code] = base / f"street_{code}.geojson"
        streets[streets.code == code].to_file(paths[code], driver="GeoJSON")
    return {"paths": paths, "codes": codes, "base": base}


def _many(inputs: dict, out: Path) -> dict:
    p = inputs["paths"]
    args = ["partition-many", "--districts", str(p["districts"]), "--roads", str(p["roads"])]
    args += ["--communities", str(p["communities"]), "--out", str(out), "--workers", "2", "--quiet"]
    args += ["--only", ",".join(inputs["codes"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_outputs_equal_single_runs_and_rerun_skips(inputs):
    out = inputs["base"] / "out"
    first = _many(inputs, out)
    assert sorted(row["code"] for row in first["done"]) == sorted(inputs["codes"]) and not first["failed"]
    p = inputs["paths"]
    total = 0
    for code in inputs["codes"]:
        single = inputs["base"] / f"single_{code}.gpkg"
        args = ["partition", "--roads", str(p["roads"]), "--boundary", str(p[code])]
        args += ["--communities", str(p["communities"]), "--out", str(single), "--quiet"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        want = gpd.read_file(single, layer="grids")
        got = gpd.read_file(out / f"{code}.gpkg", layer="grids")
        assert list(got.code) == list(want.code) and len(got) >= 2
        assert all(c.startswith(code) for c in got.code)  # community-based codes: the communities reached the task
        assert got.geometry.geom_equals_exact(want.geometry, 1e-9).all()
        total += len(got)
    merged = gpd.read_file(out / "merged.gpkg", layer="grids")
    assert len(merged) == total and set(merged.district) == set(inputs["codes"])

    stamps = {c: (out / f"{c}.gpkg").stat().st_mtime_ns for c in inputs["codes"]}
    again = _many(inputs, out)
    assert again["done"] == [] and sorted(again["skipped"]) == sorted(inputs["codes"])
    assert stamps == {c: (out / f"{c}.gpkg").stat().st_mtime_ns for c in inputs["codes"]}

    # a run cut short leaves only <code>.partial.gpkg: that district is redone, the other still skipped
    cut, kept = inputs["codes"]
    (out / f"{cut}.gpkg").unlink()
    (out / f"{cut}.partial.gpkg").write_bytes(b"half a file")
    third = _many(inputs, out)
    assert [row["code"] for row in third["done"]] == [cut] and third["skipped"] == [kept]
    assert not (out / f"{cut}.partial.gpkg").exists()
    assert list(gpd.read_file(out / f"{cut}.gpkg", layer="grids").code) == list(
        gpd.read_file(inputs["base"] / f"single_{cut}.gpkg", layer="grids").code
    )


def test_bad_district_field_is_refused_before_any_work(inputs, tmp_path):
    p = inputs["paths"]
    args = ["partition-many", "--districts", str(p["districts"]), "--roads", str(p["roads"]), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--code-field", "nope"])
    assert result.exit_code != 0 and "no field 'nope'" in result.output
    result = CliRunner().invoke(app, [*args, "--only", "999999999"])
    assert result.exit_code != 0 and "999999999" in result.output
    assert list(tmp_path.iterdir()) == []
