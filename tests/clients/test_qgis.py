"""The QGIS project in qgis/ is valid XML whose layers' datasources open views of the demo store with the declared
key, geometry type and SRID, and whose styling reads columns those views have. QGIS itself is not installable here:
GDAL's PostgreSQL driver opens each datasource instead, through the same libpq service file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from lxml import etree
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geogrid.store.db import get_engine

QGIS = Path(__file__).resolve().parents[2] / "qgis"


def datasource(source: str) -> dict[str, str]:
    """QGIS's PostgreSQL URI: key='value' pairs, then table="schema"."name" (geom)."""
    parts = {k: quoted or bare for k, quoted, bare in re.findall(r"(\w+)=(?:'([^']*)'|(\S+))", source)}
    schema, table, geom = re.search(r'table="([^"]+)"\."([^"]+)" \((\w+)\)', source).groups()
    return {**parts, "schema": schema, "table": table, "geom": geom}


def test_project_layers_open_typed_views_of_the_store(demo_url: str, tmp_path: Path) -> None:
    project = etree.parse(str(QGIS / "geogrid.qgs")).getroot()
    assert project.tag == "qgis" and project.findtext("projectCrs/spatialrefsys/authid") == "EPSG:4490"
    layers = project.findall("projectlayers/maplayer")
    tree = {n.get("id") for n in project.iter("layer-tree-layer")}
    assert len(layers) == 3 and tree == {layer.findtext("id") for layer in layers}
    url = make_url(demo_url)
    service = tmp_path / "pg_service.conf"  # the shipped service file, pointed at the test database
    conf = (QGIS / "pg_service.conf").read_text()
    service.write_text(re.sub(r"(?m)^dbname=.*$", f"dbname={url.database}", conf))
    with get_engine(demo_url).connect() as conn:
        for layer in layers:
            ds = datasource(layer.findtext("datasource"))
            assert layer.findtext("provider") == "postgres" and ds["service"] == "geogrid"
            gtype, srid = conn.execute(
                text("SELECT type, srid FROM geometry_columns WHERE f_table_schema = :s AND f_table_name = :t"),
                {"s": ds["schema"], "t": ds["table"]},
            ).one()
            assert (gtype, str(srid)) == (ds["type"].upper(), ds["srid"])
            rows, keys = conn.execute(
                text(f'SELECT count(*), count(DISTINCT "{ds["key"]}") FROM "{ds["schema"]}"."{ds["table"]}"')
            ).one()
            assert rows == keys > 0, ds["table"]
            columns = set(conn.execute(text(f'SELECT * FROM "{ds["schema"]}"."{ds["table"]}" LIMIT 0')).keys())
            renderer = layer.find("renderer-v2")
            if renderer.get("attr"):
                assert renderer.get("attr") in columns
                values = {c.get("value") for c in renderer.iter("category")}
                seen = set(conn.execute(text(f'SELECT DISTINCT tier FROM "{ds["schema"]}"."{ds["table"]}"')).scalars())
                assert values == {"A", "B", "C"} and seen <= values
            for style in layer.iter("text-style"):
                assert style.get("fieldName") in columns
            out = subprocess.run(
                ["ogrinfo", "-ro", "-so", "PG:service=geogrid", f'{ds["schema"]}.{ds["table"]}'],
                capture_output=True, text=True, timeout=120,
                env={"PGSERVICEFILE": str(service), "PATH": "/usr/bin:/bin", "PGUSER": url.username or "postgres"},
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            assert "Multi Polygon" in out.stdout and f"Feature Count: {rows}" in out.stdout


def test_a_new_layer_gets_its_view_and_only_the_published_plan_shows(demo_url: str) -> None:
    with get_engine(demo_url).begin() as conn:
        conn.execute(text("INSERT INTO grid_layer (name, title) VALUES ('patrol', '巡查网格')"))
        assert conn.execute(text("SELECT count(*) FROM gis.grids_patrol")).scalar() == 0
        published = conn.execute(
            text("SELECT count(*) FROM grid g JOIN plan p ON p.id = g.plan_id JOIN grid_layer l ON l.id = p.layer_id "
                 "WHERE l.name = 'responsibility' AND p.status = 'published'")
        ).scalar()  # fmt: skip
        assert conn.execute(text("SELECT count(*) FROM gis.grids_responsibility")).scalar() == published
        conn.execute(text("UPDATE grid_layer SET name = 'patrol2' WHERE name = 'patrol'"))
        views = set(
            conn.execute(text("SELECT table_name FROM information_schema.views WHERE table_schema = 'gis'")).scalars()
        )
        assert "grids_patrol2" in views and "grids_patrol" not in views
        conn.execute(text("DELETE FROM grid_layer WHERE name = 'patrol2'"))
        internal = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'tile_%'")
        )
        assert internal.scalar() == 0
