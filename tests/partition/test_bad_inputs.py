"""Every bad input of issue 11 through ``geogrid partition``: a non-zero exit and a message naming the file, the place
and the fix — and what the fix (a flag, a layer name, a CRS) then gives."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.crs import wgs84_to_gcj02

SMALL = """tiers:
  A: {max_diameter_m: 600, target_area_km2: [0.06, 0.12]}
  B: {max_diameter_m: 900, target_area_km2: [0.12, 0.25]}
  C: {max_diameter_m: 1500, target_area_km2: [0.25, 0.5]}
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, district):
    """The small district's layers as separate GeoPackages and together in one multi-layer file (EPSG:4490)."""
    out = tmp_path_factory.mktemp("inputs")
    stored = district.to_store()
    paths = {}
    for name, gdf in stored.layers().items():
        paths[name] = out / f"{name}.gpkg"
        gdf.to_file(paths[name], driver="GPKG")
        gdf.to_file(out / "all.gpkg", layer=name, driver="GPKG", mode="a" if (out / "all.gpkg").exists() else "w")
    paths["all"] = out / "all.gpkg"
    (out / "small.yaml").write_text(SMALL)
    paths["config"] = out / "small.yaml"
    return paths


def run(*args: str):
    result = CliRunner().invoke(app, ["partition", "--quiet", *map(str, args)])
    return result, result.output


def base(inputs, tmp_path: Path, **over) -> list:
    layers = {"roads": inputs["roads"], "boundary": inputs["boundary"], "communities": inputs["communities"]}
    layers.update(over)
    args = [f"--{k.replace('_', '-')}" if i % 2 == 0 else v for k, v in layers.items() if v for i in (0, 1)]
    return [*args, "--config", inputs["config"], "--out", tmp_path / "plan.gpkg", "--report", tmp_path / "r.json"]


def report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "r.json").read_text())


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path)
    return path


def test_multi_layer_file_needs_a_layer_name(inputs, tmp_path):
    res, out = run(*base(inputs, tmp_path, boundary=inputs["all"]))
    assert res.exit_code != 0
    assert str(inputs["all"]) in out and "6 layers" in out and "boundary" in out and ":LAYER" in out
    res, out = run(*base(inputs, tmp_path, boundary=f"{inputs['all']}:nowhere"))
    assert res.exit_code != 0 and "no layer 'nowhere'" in out and "communities" in out
    every = {n: f"{inputs['all']}:{n}" for n in ("roads", "boundary", "communities", "tier_zones", "barriers")}
    res, out = run(*base(inputs, tmp_path, **every))
    assert res.exit_code == 0, out
    assert report(tmp_path)["tier_source"] == "zones"


def test_import_reads_a_named_layer(inputs, store_url):
    res = CliRunner().invoke(app, ["import", "admin", str(inputs["all"]), "--level", "district"])
    assert res.exit_code != 0 and "name one as" in res.output
    res = CliRunner().invoke(app, ["import", "admin", f"{inputs['all']}:boundary", "--level", "district"])
    assert res.exit_code == 0, res.output
    assert "imported 1 district" in res.output


def test_boundary_hole_stays_a_hole(inputs, tmp_path, district):
    b = district.boundary.to_crs(district.crs)
    c = b.geometry.iloc[0].centroid
    hole = shapely.box(c.x - 200, c.y - 200, c.x + 200, c.y + 200)  # a 400 m hole
    holed = b.set_geometry([shapely.difference(b.geometry.iloc[0], hole)]).to_crs(4490)
    comm = district.communities.to_crs(district.crs)
    comm = comm.set_geometry(shapely.difference(comm.geometry.to_numpy(), hole)).to_crs(4490)
    args = base(
        inputs, tmp_path, boundary=write(holed, tmp_path / "b.gpkg"), communities=write(comm, tmp_path / "c.gpkg")
    )
    res, out = run(*args)
    assert res.exit_code == 0, out
    assert "hole" in out
    rep = report(tmp_path)
    assert len(rep["holes"]) == 1 and rep["holes"][0]["area_m2"] == pytest.approx(160_000, rel=0.01)
    grids = gpd.read_file(tmp_path / "plan.gpkg", layer="grids").to_crs(district.crs)
    assert shapely.area(shapely.intersection(grids.union_all(), hole)) < 1.0  # nobody's grid
    assert rep["coverage"] >= 0.999  # of the jurisdiction, which does not include its hole


def _gcj_boundary(district) -> gpd.GeoDataFrame:
    """The inner communities (their outline runs along the arterial roads), written in GCJ-02 as web maps do."""
    comm = district.communities.to_crs(district.crs)
    inner = comm[~comm.intersects(district.boundary.to_crs(district.crs).boundary.iloc[0].buffer(5.0))]
    outline = gpd.GeoSeries([inner.union_all()], crs=district.crs).to_crs(4490).to_numpy()
    shifted = shapely.transform(outline, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    return gpd.GeoDataFrame(geometry=shifted, crs=4326)


def test_gcj02_boundary_is_refused_until_its_crs_is_declared(inputs, tmp_path, district):
    gcj = write(_gcj_boundary(district), tmp_path / "street.geojson")
    res, out = run(*base(inputs, tmp_path, boundary=gcj, communities=None))
    assert res.exit_code != 0
    assert "street.geojson" in out and "GCJ02" in out and "--boundary-crs gcj02" in out
    assert " m " in out.split("GCJ02")[0][-40:] or "m GCJ02" in out  # the measured offset, in metres
    res, out = run(*base(inputs, tmp_path, boundary=gcj, communities=None), "--boundary-crs", "gcj02")
    assert res.exit_code == 0, out
    res, out = run(*base(inputs, tmp_path, boundary=gcj, communities=None), "--boundary-crs", "wgs84")
    assert res.exit_code == 0, out
    assert "warning" in out and "GCJ-02" in out
    assert report(tmp_path)["crs_offset"]["boundary"]["offset_m"] > 100


def _with(district, code: str, geom) -> gpd.GeoDataFrame:
    comm = district.communities.to_crs(district.crs).copy()
    comm.loc[comm["code"] == code, "geometry"] = geom
    return comm.to_crs(4490)


def test_overlapping_communities_are_refused_then_repaired(inputs, tmp_path, district):
    comm = district.communities.to_crs(district.crs)
    code = comm["code"].iloc[5]
    grown = comm.loc[comm["code"] == code].geometry.iloc[0].buffer(40.0)
    path = write(_with(district, code, grown), tmp_path / "comm.gpkg")
    res, out = run(*base(inputs, tmp_path, communities=path), "--map", tmp_path / "refused.png")
    assert res.exit_code != 0
    assert "comm.gpkg" in out and "overlap of" in out and code in out and "--repair-communities" in out
    assert (tmp_path / "refused.png").read_bytes()[:4] == b"\x89PNG"  # the refused places, drawn
    res, out = run(*base(inputs, tmp_path, communities=path), "--repair-communities")
    assert res.exit_code == 0, out
    overlaps = report(tmp_path)["communities_check"]["overlaps"]
    assert overlaps and all("repaired" in o for o in overlaps)
    grids = gpd.read_file(tmp_path / "plan.gpkg", layer="grids")
    assert grids["code"].is_unique and grids.geometry.is_valid.all()


def test_gaps_between_communities_are_refused_then_repaired(inputs, tmp_path, district):
    comm = district.communities.to_crs(district.crs)
    code = comm["code"].iloc[5]
    shrunk = comm.loc[comm["code"] == code].geometry.iloc[0].buffer(-15.0)
    path = write(_with(district, code, shrunk), tmp_path / "comm.gpkg")
    res, out = run(*base(inputs, tmp_path, communities=path))
    assert res.exit_code != 0
    assert "comm.gpkg" in out and "gap between communities" in out and "--repair-communities" in out
    res, out = run(*base(inputs, tmp_path, communities=path), "--repair-communities")
    assert res.exit_code == 0, out


def test_land_outside_every_community_is_refused_unless_coded(inputs, tmp_path, district):
    comm = district.communities.to_crs(4490)
    path = write(comm.iloc[1:], tmp_path / "comm.gpkg")
    res, out = run(*base(inputs, tmp_path, communities=path))
    assert res.exit_code != 0
    assert "comm.gpkg" in out and "land outside every community" in out and "--outside-code" in out
    res, out = run(*base(inputs, tmp_path, communities=path), "--outside-code", "520199001099")
    assert res.exit_code == 0, out
    grids = gpd.read_file(tmp_path / "plan.gpkg", layer="grids")
    assert (grids["community_code"] == "520199001099").any()
    assert not grids["code"].str.startswith("000000000000").any()


def test_each_input_has_its_own_crs(inputs, tmp_path, district):
    """A Gauss-Krüger boundary that declares no CRS next to WGS84 roads: --boundary-crs names it."""
    gk = district.boundary.to_crs(4545)
    raw = tmp_path / "b.geojson"
    raw.write_text(gk.set_crs(None, allow_override=True).to_json())
    res, out = run(*base(inputs, tmp_path, boundary=raw))
    assert res.exit_code != 0 and "b.geojson" in out and "not longitude/latitude" in out and "EPSG" in out
    res, out = run(*base(inputs, tmp_path, boundary=raw), "--boundary-crs", "EPSG:4545")
    assert res.exit_code == 0, out


def test_balancing_by_workload_needs_weights(inputs, tmp_path):
    res, out = run(*base(inputs, tmp_path), "--balance", "weight")
    assert res.exit_code != 0 and "needs workload weights" in out and "--weights" in out


def test_social_grids_need_communities(inputs, tmp_path):
    res, out = run(*base(inputs, tmp_path, communities=None), "--preset", "social")
    assert res.exit_code != 0 and "community layer is required" in out and "--communities" in out


def test_unit_across_a_community_border_is_refused(inputs, tmp_path, district):
    comm = district.communities.to_crs(district.crs)
    a, b = comm.geometry.iloc[0], comm.geometry.iloc[1]
    edge = shapely.intersection(a.boundary, b.boundary)
    campus = gpd.GeoDataFrame(geometry=[edge.centroid.buffer(120)], crs=district.crs).to_crs(4490)
    res, out = run(*base(inputs, tmp_path), "--units", write(campus, tmp_path / "units.gpkg"))
    assert res.exit_code != 0
    assert "units.gpkg" in out and "across a community border" in out and "near" in out


def test_weights_must_be_numbers(inputs, tmp_path, district):
    pts = district.roads.geometry.interpolate(0.5, normalized=True).iloc[:50].to_crs(4490)
    bad = gpd.GeoDataFrame({"households": ["12"] * 49 + ["many"]}, geometry=pts.to_numpy(), crs=4490)
    res, out = run(
        *base(inputs, tmp_path), "--weights", write(bad, tmp_path / "w.gpkg"), "--weight-field", "households"
    )
    assert res.exit_code != 0
    assert "w.gpkg" in out and "'households'" in out and "feature 49" in out and "not a number" in out


def test_population_raster_weights(inputs, tmp_path, district):
    import rasterio
    from rasterio.transform import from_origin

    x0, y0, x1, y1 = district.boundary.to_crs(district.crs).total_bounds
    cells = np.full((int((y1 - y0) // 100) + 1, int((x1 - x0) // 100) + 1), 50.0, dtype="float32")
    cells[: cells.shape[0] // 2] = 200.0  # the north is denser
    path = tmp_path / "pop.tif"
    profile = {"driver": "GTiff", "height": cells.shape[0], "width": cells.shape[1], "count": 1, "dtype": "float32"}
    with rasterio.open(path, "w", crs=district.crs.to_wkt(), transform=from_origin(x0, y1, 100, 100), **profile) as dst:
        dst.write(cells, 1)
    res, out = run(*base(inputs, tmp_path), "--weights", path, "--balance", "weight")
    assert res.exit_code == 0, out
    rep = report(tmp_path)
    assert rep["balance"] == "weight" and rep["weights"]["total"] > 0
    grids = gpd.read_file(tmp_path / "plan.gpkg", layer="grids").to_crs(district.crs)
    north = grids.centroid.y > (y0 + y1) / 2
    assert grids.loc[north, "area_m2"].mean() < grids.loc[~north, "area_m2"].mean()  # denser → smaller grids
