"""The demo the README's first command runs: the sample district loaded, a plan published, the API answering."""

from __future__ import annotations

import geopandas as gpd
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.demo import DATA_DIR, DEMO_GRID_COUNT, DEMO_LAYER
from geogrid.store.db import get_engine


def test_demo_loads_publishes_and_serves(store_url: str) -> None:
    result = CliRunner().invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert f"published with {DEMO_GRID_COUNT} grids" in result.output
    assert result.output.count("shown once: gg_") == 3

    with get_engine(store_url).connect() as conn:
        levels = dict(conn.execute(text("SELECT level, count(*) FROM admin_area GROUP BY level")).all())
        published = conn.execute(
            text(
                "SELECT p.id FROM plan p JOIN grid_layer l ON l.id = p.layer_id "
                "WHERE l.name = :l AND status = 'published'"
            ),
            {"l": DEMO_LAYER},
        ).scalar_one()
        union, district = conn.execute(
            text(
                "SELECT ST_AsBinary(ST_Union(g.geom)), "
                "(SELECT ST_AsBinary(geom) FROM admin_area WHERE level = 'district') "
                "FROM grid g WHERE g.plan_id = :p"
            ),
            {"p": published},
        ).one()
        unstaffed = conn.execute(
            text(
                "SELECT count(*) FROM grid g WHERE g.plan_id = :p AND NOT EXISTS "
                "(SELECT 1 FROM grid_assignment a WHERE a.grid_code = g.code AND a.role = '网格长')"
            ),
            {"p": published},
        ).scalar_one()
    files = {p: len(gpd.read_file(DATA_DIR / f"demo_{p}.geojson")) for p in ("district", "streets", "communities")}
    assert levels == {"district": files["district"], "street": files["streets"], "community": files["communities"]}
    union, district = shapely.from_wkb(bytes(union)), shapely.from_wkb(bytes(district))
    covered = union.intersection(district).area / district.area
    assert covered > 0.999
    assert unstaffed == 0

    from api.main import create_app

    inside = district.representative_point()
    with TestClient(create_app()) as client:
        answer = client.get("/v1/locate", params={"lon": inside.x, "lat": inside.y}).json()
        assert answer["outside"] is False
        assert len(answer["grid"]["code"]) == 15
        assert answer["grid"]["code"].startswith(answer["community"]["code"])
        assert all("phone" not in person for person in answer["grid"]["people"])
        assert client.get("/map/").status_code == 200

    again = CliRunner().invoke(app, ["demo", "--no-serve"])  # a second run publishes a new version
    assert again.exit_code == 0, again.output
    assert "demo-responsibility-v2" in again.output
