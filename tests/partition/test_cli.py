"""``geogrid partition`` end to end: files in, GeoPackage + report + map out, draft plan in the store."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.demo.district import write_district


@pytest.fixture(scope="module")
def files(tmp_path_factory, district):
    out = tmp_path_factory.mktemp("district")
    return write_district(district, out, driver="GPKG")


def _args(files, tmp_path, *extra):
    return [
        "partition",
        "--roads",
        str(files["roads"]),
        "--boundary",
        str(files["boundary"]),
        "--communities",
        str(files["communities"]),
        "--tier-zones",
        str(files["tier_zones"]),
        "--barriers",
        str(files["barriers"]),
        "--out",
        str(tmp_path / "plan.gpkg"),
        "--quiet",
        *extra,
    ]


def test_cli_writes_gpkg_report_map(files, tmp_path, district):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("tiers:\n  A: {max_diameter_m: 800, target_area_km2: [0.1, 0.2]}\n")
    res = CliRunner().invoke(
        app,
        _args(
            files,
            tmp_path,
            "--config",
            str(cfg),
            "--report",
            str(tmp_path / "r.json"),
            "--map",
            str(tmp_path / "m.png"),
        ),
    )
    assert res.exit_code == 0, res.output
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "plan.gpkg")}
    assert {"grids", "blocks"} <= layers
    grids = gpd.read_file(tmp_path / "plan.gpkg", layer="grids")
    assert {"code", "tier", "community_code", "area_m2", "diameter_m", "road_share"} <= set(grids.columns)
    assert grids.crs.to_epsg() == 4490
    assert grids["code"].str.fullmatch(r"\d{15}").all()
    assert (grids.loc[grids["tier"] == "A", "diameter_m"] <= 800).all()
    assert set(grids["community_code"]) <= set(district.communities["code"])
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["grids"] == len(grids)
    assert report["tier_source"] == "zones"
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{len(grids)} grids" in res.output


def test_cli_saves_draft_plan(files, tmp_path, store_url):
    from geogrid.store.db import session_scope
    from geogrid.store.imports import import_admin

    with session_scope(store_url) as session:  # grids link to their community rows
        import_admin(session, files["boundary"], "district")
        import_admin(session, files["streets"], "street")
        import_admin(session, files["communities"], "community")
    res = CliRunner().invoke(app, _args(files, tmp_path, "--plan", "draft-1", "--layer", "patrol"))
    assert res.exit_code == 0, res.output
    n = len(gpd.read_file(tmp_path / "plan.gpkg", layer="grids"))
    eng = create_engine(store_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with eng.connect() as conn:
        row = conn.execute(
            text(
                "SELECT p.status, l.name, count(g.id) FROM plan p JOIN grid_layer l ON l.id = p.layer_id "
                "JOIN grid g ON g.plan_id = p.id WHERE p.name = 'draft-1' GROUP BY p.status, l.name"
            )
        ).one()
    eng.dispose()
    assert row == ("draft", "patrol", n)
    again = CliRunner().invoke(app, _args(files, tmp_path, "--plan", "draft-1"))
    assert again.exit_code != 0
    assert "draft-1" in again.output


def test_cli_errors_name_the_cause(files, tmp_path):
    missing = CliRunner().invoke(
        app,
        [
            "partition",
            "--roads",
            str(tmp_path / "nope.gpkg"),
            "--boundary",
            str(files["boundary"]),
            "--out",
            str(tmp_path / "x.gpkg"),
        ],
    )
    assert missing.exit_code != 0
    assert "nope.gpkg" in missing.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[tiers.B]\nmax_diameter_m = 20\n")
    res = CliRunner().invoke(app, _args(files, tmp_path, "--config", str(bad)))
    assert res.exit_code != 0
    assert "bad.toml" in res.output and "max_diameter_m" in res.output
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame(geometry=gpd.GeoSeries.from_xy([120.0], [40.0]).buffer(0.01), crs=4490).to_file(far)
    res = CliRunner().invoke(
        app,
        [
            "partition",
            "--roads",
            str(files["roads"]),
            "--boundary",
            str(far),
            "--out",
            str(tmp_path / "y.gpkg"),
            "--quiet",
        ],
    )
    assert res.exit_code != 0
    assert "cannot partition" in res.output and "no road" in res.output
    assert not (tmp_path / "y.gpkg").exists()


def test_an_output_into_a_missing_folder_fails_before_the_work(files, tmp_path, monkeypatch):
    import geogrid.partition

    def never(*args, **kwargs):
        raise AssertionError("partitioned although the output cannot be written")

    monkeypatch.setattr(geogrid.partition, "partition", never)
    for option in ("--out", "--report", "--map"):
        args = _args(files, tmp_path)
        target = tmp_path / "no-such-folder" / "file.out"
        if option == "--out":
            args[args.index("--out") + 1] = str(target)
        else:
            args += [option, str(target)]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, res.output
        assert f"{option} {target}" in res.output and "does not exist" in res.output
