"""Published plans are tiled from their Web Mercator copy; the copy matches the source and drafts never get one."""

from __future__ import annotations

import mapbox_vector_tile
from sqlalchemy import text

from geogrid.maps.catalog import load_catalog
from geogrid.maps.projected import ensure_projected
from geogrid.maps.state import MapState
from geogrid.maps.tiles import render_block
from geogrid.store.db import session_scope
from tests.maps.conftest import LAT0, LON0, STEP, MapStore
from tests.maps.test_tiles import tile_of


def features(data: bytes) -> dict[str, tuple]:
    """code -> (properties, integer tile coordinates of the geometry) for every grid feature of a tile."""
    layer = mapbox_vector_tile.decode(data).get("grids", {"features": []}) if data else {"features": []}
    return {
        f["properties"]["code"]: (sorted(f["properties"].items()), repr(f["geometry"]["coordinates"]))
        for f in layer["features"]
    }


def test_projected_tiles_equal_tiles_from_the_store_crs(map_store: MapStore) -> None:
    with session_scope(map_store.url) as s:
        published = load_catalog(s)["grids.unit"]
        assert ensure_projected(s, published.plan_id) == len(map_store.cells)
        srids = s.execute(text("SELECT DISTINCT ST_SRID(geom) FROM internal.tile_grid")).scalars().all()
        assert srids == [3857]
        for z in (11, 14, 16):
            x, y = tile_of(LON0 + 1.5 * STEP, LAT0 + 1.0 * STEP, z)
            for whole in (False, True):
                direct = render_block(s, published, z, x, y, whole=whole)
                projected = render_block(s, published, z, x, y, whole=whole, projected=True)
                assert direct.keys() == projected.keys()
                assert any(direct.values())
                for key, data in direct.items():
                    assert features(data) == features(projected[key]), (z, key)


def test_first_tile_fills_the_copy_once_and_drafts_stay_out(map_store: MapStore) -> None:
    state = MapState(lambda: map_store.url, catalog_ttl=60)
    try:
        with session_scope(map_store.url) as s:
            cat = state.catalog(s)
            published, draft = cat["grids.unit"], cat[f"plan.{map_store.draft}"]
            z = 14
            x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, z)
            assert features(state.render(s, published, z, x, y).data)
            assert features(state.render(s, draft, z, x, y).data)
            assert ensure_projected(s, published.plan_id) == len(map_store.cells)  # already there: no second fill
            rows = s.execute(text("SELECT plan_id, count(*) FROM internal.tile_grid GROUP BY plan_id")).all()
            assert rows == [(published.plan_id, len(map_store.cells))]
            s.execute(text("DELETE FROM plan WHERE id = :p"), {"p": published.plan_id})
            assert s.execute(text("SELECT count(*) FROM internal.tile_grid")).scalar() == 0
            assert s.execute(text("SELECT count(*) FROM internal.tile_plan")).scalar() == 0
    finally:
        state.close()


def test_renamed_community_refills_the_copy(map_store: MapStore) -> None:
    state = MapState(lambda: map_store.url, catalog_ttl=0)
    try:
        z = 14
        x, y = tile_of(LON0 + 0.5 * STEP, LAT0 + 0.5 * STEP, z)
        with session_scope(map_store.url) as s:
            published = state.catalog(s)["grids.unit"]
            before = features(state.render(s, published, z, x, y).data)
        assert "长春社区" in {dict(props)["community_name"] for props, _ in before.values()}
        with session_scope(map_store.url) as s:
            s.execute(text("UPDATE admin_area SET name = '长春新社区' WHERE name = '长春社区'"))
        with session_scope(map_store.url) as s:
            published = state.catalog(s)["grids.unit"]  # the expired catalogue notices the admin change
            after = features(state.render(s, published, z, x, y).data)
        assert after.keys() == before.keys()
        names = {dict(props)["community_name"] for props, _ in after.values()}
        assert "长春新社区" in names and "长春社区" not in names
    finally:
        state.close()
