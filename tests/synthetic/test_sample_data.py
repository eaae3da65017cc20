"""The committed demo boundaries are exactly what scripts/make_sample_data.py generates, in the documented CRSs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import shapely

from geogrid import io
from geogrid.demo.district import small_district

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "boundaries"


def _script():
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_files_match_the_generator(tmp_path: Path) -> None:
    paths = _script().write_sample(tmp_path)
    for path in paths.values():
        assert path.read_bytes() == (DATA / path.name).read_bytes(), f"{path.name}: rerun scripts/make_sample_data.py"
        assert path.stat().st_size < 100_000


def test_streets_are_gcj02_and_convert_back_onto_the_communities() -> None:
    seed = _script().SEED
    metric = small_district(seed=seed).crs
    district = io.read_vector(DATA / "demo_district.geojson")
    communities = io.read_vector(DATA / "demo_communities.geojson")
    streets_raw = io.read_vector(DATA / "demo_streets.geojson")  # taken as WGS84: wrong by the GCJ-02 offset
    streets = io.read_vector(DATA / "demo_streets.geojson", crs="gcj02")
    assert '"crs"' not in (DATA / "demo_streets.geojson").read_text(encoding="utf-8")
    assert "EPSG::4490" in (DATA / "demo_district.geojson").read_text(encoding="utf-8")
    b = district.to_crs(metric).union_all()
    off = shapely.hausdorff_distance(streets_raw.to_crs(metric).union_all(), b)
    good = shapely.hausdorff_distance(streets.to_crs(metric).union_all(), b)
    assert off > 100.0
    assert good < 0.5
    assert communities["code"].str[:9].isin(streets["code"]).all()
    assert streets["code"].str[:6].eq(district["code"].iloc[0]).all()
    assert communities.to_crs(metric).area.sum() == pytest.approx(b.area, rel=1e-4)
