"""The validation report finds planted defects where they are, with about the right areas, and stores itself."""

from __future__ import annotations

import json

import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import text

from geogrid.store.db import get_engine
from tests.store import sample
from tests.store.conftest import ok, write

TO_GK = Transformer.from_crs(4490, sample.GK, always_xy=True)


def _inside(location: list[float], box: shapely.Polygon) -> bool:
    x, y = TO_GK.transform(*location)
    return box.buffer(0.5).contains(shapely.Point(x, y))


def _validate(tmp_path, grids, plan: str) -> dict:
    ok("import", "grids", write(grids, tmp_path, plan, "gpkg"), "--layer", "unit", "--plan", plan)
    return json.loads(ok("plan", "validate", plan, "--json").stdout)


def test_planted_gap_overlap_crossing_and_outside_are_found(admin_loaded: str, tmp_path) -> None:
    grids, truth = sample.planted_grids()
    report = _validate(tmp_path, grids, "planted")

    (overlap,) = report["overlaps"]
    codes, box, area = truth["overlap"]
    assert sorted(overlap["codes"]) == sorted(codes)
    assert overlap["area_m2"] == pytest.approx(area, rel=0.01)
    assert _inside(overlap["location"], box)

    (gap,) = report["gaps"]
    box, area = truth["gap"]
    assert gap["area_m2"] == pytest.approx(area, rel=0.01)
    assert _inside(gap["location"], box)

    crossings = {c["code"]: c for c in report["crossings"]}
    code, community, box, area = truth["crossing"]
    beyond_code, beyond_box, beyond_area = truth["beyond"]
    assert set(crossings) == {code, beyond_code}  # leaving the district also leaves the community
    assert crossings[code]["community"] == community
    assert crossings[code]["outside_m2"] == pytest.approx(area, rel=0.01)
    assert _inside(crossings[code]["location"], box)

    (outside,) = report["outside_jurisdiction"]
    assert outside["code"] == beyond_code
    assert outside["outside_m2"] == pytest.approx(beyond_area, rel=0.01)
    assert _inside(outside["location"], beyond_box)

    jurisdiction = 4 * sample.S * sample.S
    assert report["coverage"]["level"] == "district"
    assert report["coverage"]["ratio"] == pytest.approx((jurisdiction - truth["gap"][1]) / jurisdiction, abs=1e-5)
    assert report["summary"]["overlaps"] == 1 and report["summary"]["crossings"] == 2
    assert any("overlap" in reason for reason in report["blocking"])
    assert any("community border" in reason for reason in report["blocking"])

    with get_engine(admin_loaded).connect() as conn:
        stored = conn.execute(text("SELECT report FROM plan WHERE name = 'planted'")).scalar_one()
    assert stored["validation"]["summary"] == report["summary"]
    assert stored["import"]["written"] == len(grids)


def test_clean_plan_reports_nothing_and_full_coverage(admin_loaded: str, tmp_path) -> None:
    report = _validate(tmp_path, sample.clean_grids(), "clean")
    assert report["summary"]["overlaps"] == report["summary"]["gaps"] == report["summary"]["crossings"] == 0
    assert report["outside_jurisdiction"] == [] and report["invalid"] == [] and report["no_community"] == []
    assert report["coverage"]["ratio"] == pytest.approx(1.0, abs=1e-6)
    assert report["blocking"] == []


def test_printed_report_is_readable(admin_loaded: str, tmp_path) -> None:
    grids, _ = sample.planted_grids()
    ok("import", "grids", write(grids, tmp_path, "planted", "gpkg"), "--layer", "unit", "--plan", "planted")
    out = ok("plan", "validate", "planted").stdout
    assert "overlaps (4,000" in out or "overlaps (3,99" in out
    assert "SQ-1-1 × SQ-1-2" in out
    assert "SQ-3-1" in out and "outside community 420102002001" in out
    assert "coverage: 99.8" in out
    assert "publish: blocked" in out


def test_without_admin_areas_gaps_are_enclosed_holes(store_url: str, tmp_path) -> None:
    grids, truth = sample.planted_grids()
    report = _validate(tmp_path, grids, "no-admin")
    assert report["coverage"] is None
    (gap,) = report["gaps"]  # the notch is enclosed by SQ-1-1 and SQ-1-2
    assert gap["area_m2"] == pytest.approx(truth["gap"][1], rel=0.01)
    assert report["summary"]["overlaps"] == 1
    assert report["crossings"] == []  # nothing to cross without communities
