"""An admin set and a grid layer round-trip through the store from Shapefile (GBK, Gauss-Krüger), GeoJSON
(GCJ-02, no CRS declared) and GeoPackage: geometry, Chinese names, codes, parents and communities intact."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.store import sample
from tests.store.conftest import IMPORT_OPTIONS, import_admin_set, ok, store_frame, write

ADMIN_SQL = (
    "SELECT a.level, a.code, a.name, p.code AS parent, a.area_m2, ST_AsBinary(a.geom) AS wkb "
    "FROM admin_area a LEFT JOIN admin_area p ON p.id = a.parent_id ORDER BY a.level, a.code"
)
GRID_SQL = (
    "SELECT g.code, g.local_code, g.name, g.tier, c.code AS community, g.area_m2, g.diameter_m, "
    "ST_AsBinary(g.geom) AS wkb FROM grid g JOIN plan p ON p.id = g.plan_id "
    "LEFT JOIN admin_area c ON c.id = g.community_id WHERE p.name = :plan ORDER BY g.code"
)


def _same_shapes(stored, truth, fmt: str) -> None:
    sym = shapely.area(shapely.symmetric_difference(np.asarray(stored.values), np.asarray(truth.values)))
    assert sym.max() < 0.01, sym  # m²: the shapes agree to a few square centimetres
    if fmt == "geojson":
        # GCJ-02 was undone by the iterative inverse: every vertex back within 1 cm of the truth.
        dist = shapely.hausdorff_distance(np.asarray(stored.values), np.asarray(truth.values))
        assert dist.max() < 0.01, dist


@pytest.mark.parametrize("fmt", ["shp", "geojson", "gpkg"])
def test_admin_and_grids_round_trip(store_url: str, tmp_path, fmt: str) -> None:
    import_admin_set(tmp_path, fmt)
    admin = store_frame(store_url, ADMIN_SQL)
    for level, truth in sample.admin_frames().items():
        got = admin[admin["level"] == level].set_index("code")
        truth = truth.set_index("code")
        assert sorted(got.index) == sorted(truth.index)
        got = got.loc[truth.index]
        assert got["name"].tolist() == truth["name"].tolist()  # Chinese names intact
        if level != "district":  # by field for the Shapefile, spatially for the others
            assert got["parent"].tolist() == truth["parent"].tolist()
        np.testing.assert_allclose(got["area_m2"], truth.area, rtol=1e-6)
        _same_shapes(got.geometry, truth.geometry, fmt)

    grids = sample.clean_grids()
    path = write(grids, tmp_path, "grids", fmt)
    ok("import", "grids", path, "--layer", "unit", "--plan", f"unit-{fmt}", *IMPORT_OPTIONS[fmt])
    got = store_frame(store_url, GRID_SQL, plan=f"unit-{fmt}").set_index("code")
    truth = grids.set_index("code")
    assert sorted(got.index) == sorted(truth.index)
    got = got.loc[truth.index]
    assert got["local_code"].tolist() == truth.index.tolist()
    assert got["name"].tolist() == truth["name"].tolist()
    assert got["tier"].tolist() == truth["tier"].tolist()
    assert got["community"].tolist() == truth["community"].tolist()  # matched spatially
    np.testing.assert_allclose(got["area_m2"], 500_000.0, rtol=1e-3)
    np.testing.assert_allclose(got["diameter_m"], np.hypot(500.0, 1000.0), rtol=1e-3)
    _same_shapes(got.geometry, truth.geometry, fmt)
