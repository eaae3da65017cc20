"""Store-test helpers: run the CLI, count rows, write the sample jurisdiction in one of three file formats."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.store.db import get_engine
from tests.store import sample

TABLES = ("admin_area", "grid_layer", "plan", "grid")

# Per format: how the file spells its fields and how it is written. Only the Shapefile names the parent; the
# others leave parents to the spatial match.
FORMATS = {
    "shp": ({"code": "编码", "name": "名称", "parent": "上级", "tier": "等级"}, ".shp"),
    "geojson": ({"code": "adcode", "name": "name", "tier": "tier"}, ".geojson"),
    "gpkg": ({"code": "CODE", "name": "NAME", "tier": "等级"}, ".gpkg"),
}
IMPORT_OPTIONS = {"shp": ["--encoding", "gbk"], "geojson": ["--crs", "gcj02"], "gpkg": []}


def cli(*args: str):
    """Invoke ``geogrid ARGS`` in-process against the store in GEOGRID_DATABASE_URL."""
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args: str):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def write(gdf: gpd.GeoDataFrame, directory: Path, stem: str, fmt: str) -> Path:
    rename, suffix = FORMATS[fmt]
    frame = gdf[[c for c in gdf.columns if c in rename or c == gdf.geometry.name]]
    frame = frame.rename(columns=rename)
    path = directory / f"{stem}{suffix}"
    if fmt == "shp":
        return sample.write_shapefile_gbk(frame, path, {})
    if fmt == "geojson":
        return sample.write_geojson_gcj02(frame, path)
    return sample.write_gpkg(frame, path, {})


def import_admin_set(directory: Path, fmt: str) -> None:
    for level, frame in sample.admin_frames().items():
        if level == "district":
            frame = frame.drop(columns="parent")
        ok("import", "admin", write(frame, directory, level, fmt), "--level", level, *IMPORT_OPTIONS[fmt])


def store_frame(url: str, sql: str, **params) -> gpd.GeoDataFrame:
    """Rows of ``sql`` (which selects ``ST_AsBinary(geom) AS wkb``) with the geometry in EPSG:4547."""
    with get_engine(url).connect() as conn:
        result = conn.execute(text(sql), params)
        rows = [dict(r._mapping) for r in result]
    wkb = [bytes(r.pop("wkb")) for r in rows]
    return gpd.GeoDataFrame(rows, geometry=shapely.from_wkb(wkb), crs=4490).to_crs(sample.GK)


@pytest.fixture
def admin_loaded(store_url: str, tmp_path: Path) -> str:
    """A store holding the sample district, streets and communities (imported from GeoPackages)."""
    import_admin_set(tmp_path, "gpkg")
    return store_url
