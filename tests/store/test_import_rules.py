"""Import rules on messy files: repair and list self-intersections, merge features sharing a code, keep numeric
and local codes as spelled, read tier words, update admin areas on re-import, and the draft-plan API."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import text

from geogrid.store.db import get_engine, session_scope
from geogrid.store.plans import save_draft_plan
from tests.store import sample
from tests.store.conftest import counts, ok, store_frame, write

GRIDS = "SELECT code, local_code, tier, area_m2, ST_AsBinary(geom) AS wkb, ST_IsValid(geom) AS valid FROM grid"


def _import_json(path, plan: str, *extra: str) -> dict:
    out = ok("import", "grids", path, "--layer", "unit", "--plan", plan, "--json", *extra).stdout
    return json.loads(out)


def test_self_intersection_is_repaired_listed_and_reported(admin_loaded, tmp_path) -> None:
    grids = sample.clean_grids()
    x0, y0, x1, y1 = grids.geometry[0].bounds
    grids.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bow tie
    assert not grids.geometry[0].is_valid
    summary = _import_json(write(grids, tmp_path, "bowtie", "gpkg"), "bowtie")
    (item,) = summary["repaired"]
    assert item["code"] == grids["code"][0] and item["feature"] == 0 and "Self-intersection" in item["reason"]
    stored = store_frame(admin_loaded, GRIDS + " WHERE code = :c", c=grids["code"][0])
    assert stored["valid"].all()
    assert stored.geometry[0].area == pytest.approx(250_000.0, rel=1e-3)  # both triangles of the bow tie kept
    report = json.loads(ok("plan", "validate", "bowtie", "--json").stdout)
    assert [(i["code"], i["repaired"]) for i in report["invalid"]] == [(grids["code"][0], True)]
    assert report["summary"]["gaps"] == 2  # the two triangles the bow tie left uncovered


def test_features_sharing_a_code_become_one_grid(admin_loaded, tmp_path) -> None:
    grids = sample.clean_grids()
    whole = grids.iloc[0]
    south = shapely.clip_by_rect(whole.geometry, *whole.geometry.bounds[:3], whole.geometry.bounds[1] + 400)
    north = whole.geometry.difference(south)
    parts = gpd.GeoDataFrame([whole, whole], crs=grids.crs).set_geometry([south, north], crs=grids.crs)
    parts["tier"] = ["A", None]
    split = gpd.GeoDataFrame(gpd.pd.concat([parts, grids.iloc[1:]], ignore_index=True), crs=grids.crs)
    summary = _import_json(write(split, tmp_path, "split", "shp"), "split", "--encoding", "gbk")
    assert summary["merged"] == [{"code": whole["code"], "features": 2}]
    assert summary["features"] == 9 and summary["written"] == 8
    stored = store_frame(admin_loaded, GRIDS + " WHERE code = :c", c=whole["code"])
    assert len(stored) == 1 and stored["tier"][0] == "A"
    assert stored["area_m2"][0] == pytest.approx(500_000.0, rel=1e-3)
    assert shapely.symmetric_difference(stored.geometry[0], whole.geometry).area < 0.01
    report = json.loads(ok("plan", "validate", "split", "--json").stdout)
    assert report["summary"]["gaps"] == report["summary"]["overlaps"] == 0


def test_numeric_and_local_codes_and_tier_words(store_url, tmp_path) -> None:
    grids = sample.clean_grids().iloc[:4].copy()
    grids["code"] = [420102001001001, 420102001001002, 420102001002001, 420102001002002]
    grids["tier"] = ["A级", "二级", "3", "c"]
    summary = _import_json(write(grids, tmp_path, "numeric", "shp"), "numeric", "--encoding", "gbk")
    assert summary["written"] == 4
    stored = store_frame(store_url, GRIDS + " ORDER BY code")
    assert stored["code"].tolist() == [str(c) for c in grids["code"]]
    assert stored["tier"].tolist() == ["A", "B", "C", "C"]
    local = sample.clean_grids().iloc[:2].copy()
    local["code"] = [" SQ-3-2", "SQ-3-3 "]
    _import_json(write(local, tmp_path, "local", "geojson"), "local", "--crs", "gcj02")
    with get_engine(store_url).connect() as conn:
        rows = conn.execute(text("SELECT code, local_code FROM grid WHERE code LIKE 'SQ%' ORDER BY code")).all()
    assert [tuple(r) for r in rows] == [("SQ-3-2", " SQ-3-2"), ("SQ-3-3", "SQ-3-3 ")]


def test_admin_reimport_updates_in_place(admin_loaded, tmp_path) -> None:
    before = counts(admin_loaded)
    communities = sample.admin_frames()["community"].drop(columns="parent")
    communities.loc[0, "name"] = "新车站路社区"
    out = ok("import", "admin", write(communities, tmp_path, "again", "gpkg"), "--level", "community").output
    assert "0 new, 4 updated" in out
    assert counts(admin_loaded) == before
    with get_engine(admin_loaded).connect() as conn:
        name, parent = conn.execute(
            text(
                "SELECT a.name, p.code FROM admin_area a JOIN admin_area p ON p.id = a.parent_id "
                "WHERE a.level = 'community' AND a.code = :c"
            ),
            {"c": communities["code"][0]},
        ).one()
    assert (name, parent) == ("新车站路社区", sample.COMMUNITIES[0][2])


def test_save_draft_plan_versions_layers_and_refuses_bad_rows(admin_loaded) -> None:
    grids = sample.clean_grids().rename(columns={"community": "community_code"})
    with session_scope() as session:
        first = save_draft_plan(session, grids, layer="responsibility", plan="r1", source="partition")
        second = save_draft_plan(session, grids.to_crs(4326), layer="responsibility", plan="r2")
        assert (first.version, second.version, first.status) == (1, 2, "draft")
    stored = store_frame(admin_loaded, GRIDS + " g JOIN plan p ON p.id = g.plan_id WHERE p.name = 'r2' ORDER BY code")
    np.testing.assert_allclose(stored["area_m2"], 500_000.0, rtol=1e-3)
    with session_scope() as session:
        with pytest.raises(ValueError, match="'r1' exists already"):
            save_draft_plan(session, grids, layer="responsibility", plan="r1")
        with pytest.raises(ValueError, match="unknown community code"):
            save_draft_plan(session, grids.assign(community_code="999"), layer="responsibility", plan="r3")
        with pytest.raises(ValueError, match="duplicate grid codes"):
            save_draft_plan(session, grids.assign(code="X"), layer="responsibility", plan="r4")
        with pytest.raises(ValueError, match="unknown grid tier"):
            save_draft_plan(session, grids.assign(tier="D"), layer="responsibility", plan="r5")


def test_blank_parent_codes_fall_back_to_the_spatial_match(store_url, tmp_path) -> None:
    frames = sample.admin_frames()
    district = write(frames["district"].drop(columns="parent"), tmp_path, "d", "shp")
    ok("import", "admin", district, "--level", "district", "--encoding", "gbk")
    ok("import", "admin", write(frames["street"], tmp_path, "s", "shp"), "--level", "street", "--encoding", "gbk")
    communities = frames["community"].assign(parent=[None, sample.COMMUNITIES[1][2], None, None])
    out = ok("import", "admin", write(communities, tmp_path, "c", "shp"), "--level", "community", "--encoding", "gbk")
    assert "parent=上级" in out.output
    with get_engine(store_url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.code, p.code FROM admin_area a JOIN admin_area p ON p.id = a.parent_id "
                "WHERE a.level = 'community' ORDER BY a.code"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(c[0], c[2]) for c in sample.COMMUNITIES]
