"""China's offset coordinate systems and CRS parsing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geogrid import crs

GEOD = Geod(ellps="WGS84")

# Published pairs: the forward formulas of the widely used coordtransform library (input 116.404, 39.915),
# and Beijing railway station as Amap (GCJ-02) and Baidu (BD-09) show it.
FORWARD_PAIRS = [
    (crs.wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    (crs.gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    (crs.gcj02_to_bd09, (116.42703, 39.90245), (116.43351, 39.90851)),
]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("forward", "given_", "expected"), FORWARD_PAIRS)
def test_forward_formulas_match_published_pairs(forward, given_, expected) -> None:
    lon, lat = forward(*given_)
    assert metres(lon, lat, *expected) < 1.0


def test_inverse_beats_one_step_inverse() -> None:
    # coordtransform's one-step gcj02towgs84(116.404, 39.915) = (116.39775550083061, 39.91359571849836)
    lon, lat = crs.gcj02_to_wgs84(116.404, 39.915)
    back = crs.wgs84_to_gcj02(lon, lat)
    assert metres(*back, 116.404, 39.915) < 0.001
    one_step_back = crs.wgs84_to_gcj02(116.39775550083061, 39.91359571849836)
    assert metres(*one_step_back, 116.404, 39.915) > 0.01  # the crude inverse is worse than ours
    assert metres(lon, lat, 116.39775550083061, 39.91359571849836) < 5.0


def test_offsets_have_the_documented_size() -> None:
    lon, lat = np.array([116.39, 121.47, 106.70, 114.30]), np.array([39.91, 31.23, 26.57, 30.59])
    gcj = crs.wgs84_to_gcj02(lon, lat)
    bd = crs.wgs84_to_bd09(lon, lat)
    assert np.all((metres(lon, lat, *gcj) > 19) & (metres(lon, lat, *gcj) < 710))
    assert np.all(metres(lon, lat, *bd) > metres(lon, lat, *gcj))


def test_outside_china_is_identity() -> None:
    assert crs.wgs84_to_gcj02(24.94, 60.17) == (24.94, 60.17)
    assert crs.gcj02_to_wgs84(-0.12, 51.5) == (-0.12, 51.5)


@settings(max_examples=300, deadline=None)
@given(st.floats(73.6, 134.7), st.floats(18.2, 53.4), st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_under_a_centimetre(lon: float, lat: float, kind: str) -> None:
    to_offset = crs.wgs84_to_gcj02 if kind == "gcj02" else crs.wgs84_to_bd09
    back = crs.to_lonlat(*to_offset(lon, lat), kind)
    assert metres(*back, lon, lat) < 0.01


def test_vectorised_round_trip_on_random_points() -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(74, 134, 50_000), rng.uniform(19, 53, 50_000)
    back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert metres(*back, lon, lat).max() < 0.01


@pytest.mark.parametrize(
    ("spec", "offset", "epsg"),
    [
        ("wgs84", None, 4326),
        ("CGCS2000", None, 4490),
        ("GCJ02", "gcj02", None),
        ("bd09", "bd09", None),
        ("EPSG:4545", None, 4545),
        ("epsg:4490", None, 4490),
        (None, None, 4326),
    ],
)
def test_parse_crs(spec, offset, epsg) -> None:
    parsed = crs.parse_crs(spec)
    assert parsed.offset == offset
    if epsg:
        assert parsed.crs.to_epsg() == epsg


@pytest.mark.parametrize("spec", ["mars", "EPSG:999999", "gcj03"])
def test_parse_crs_rejects_unknown(spec) -> None:
    with pytest.raises(crs.CrsError, match="unknown CRS"):
        crs.parse_crs(spec)


def test_to_store_converts_gcj02_geometries() -> None:
    truth = shapely.box(106.70, 26.57, 106.71, 26.58)
    offset = shapely.transform(truth, lambda c: np.column_stack(crs.wgs84_to_gcj02(c[:, 0], c[:, 1])))
    frame = gpd.GeoDataFrame(geometry=[offset])  # declares no CRS, like a web-map boundary file
    out = crs.to_store(frame, "gcj02")
    assert out.crs.to_epsg() == 4490
    moved = shapely.get_coordinates(out.geometry.iloc[0])
    expected = shapely.get_coordinates(truth)
    assert metres(moved[:, 0], moved[:, 1], expected[:, 0], expected[:, 1]).max() < 0.01


def test_local_metric_crs_uses_gauss_kruger_in_china_and_utm_elsewhere() -> None:
    assert crs.local_metric_crs(106.7, 26.57).to_epsg() == 4545  # CGCS2000 3° GK, CM 108°E (nearest)
    assert crs.local_metric_crs(114.3, 30.6).to_epsg() == 4547  # CM 114°E
    assert crs.local_metric_crs(24.9, 60.2).to_epsg() == 32635
