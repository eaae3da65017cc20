"""Plan exports for desktop GIS: GeoJSON (RFC 7946), GeoPackage, zipped Shapefile (UTF-8, or GBK on request).

Why GBK: older Chinese desktop tools (and some ArcGIS setups) read DBF text as the system code page (CP936); the
``.cpg`` file names the encoding so tools that honour it read either variant correctly.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.maps.catalog import Collection
from geogrid.maps.features import SOURCES, properties_of

FORMATS = {
    "geojson": ("GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ("ESRI Shapefile", ".zip", "application/zip"),
}
ENCODINGS = {"utf-8": "UTF-8", "utf8": "UTF-8", "gbk": "GBK", "cp936": "GBK"}
# DBF field names are limited to 10 characters.
SHAPEFILE_NAMES = {
    "local_code": "local_code",
    "community_code": "comm_code",
    "community_name": "comm_name",
    "street_code": "street_cd",
    "street_name": "street_nm",
    "diameter_m": "diam_m",
    "parent_code": "parent_cd",
}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass(frozen=True)
class ExportFile:
    path: Path
    media_type: str
    suffix: str


def collection_frame(session: Session, collection: Collection) -> gpd.GeoDataFrame:
    """Every feature of the collection with its properties (and plan identity for grids), in EPSG:4490."""
    props = properties_of(collection)
    cols = ", ".join(f"{expr} AS {name}" for name, expr in props.items())
    if collection.kind == "grids":
        where, params = "g.plan_id = %(source)s", {"source": collection.plan_id}
    else:
        where, params = "g.level = %(source)s", {"source": collection.level}
    sql = f"SELECT {cols}, g.geom FROM {SOURCES[collection.kind]} WHERE {where} ORDER BY g.id"
    frame = gpd.read_postgis(sql, session.connection(), geom_col="geom", params=params, crs=STORE_SRID)
    for name in ("area_m2", "diameter_m"):
        if name in frame:
            frame[name] = frame[name].astype(float)
    if collection.kind == "grids":
        frame["plan"] = collection.plan_name
        frame["layer"] = collection.layer
        frame["version"] = collection.version
    return frame


def write_export(frame: gpd.GeoDataFrame, fmt: str, encoding: str, workdir: Path, layer: str) -> ExportFile:
    """Write ``frame`` in ``fmt`` under ``workdir``; Shapefiles come zipped with their .cpg."""
    driver, suffix, media_type = FORMATS[fmt]
    if fmt == "geojson":
        path = workdir / f"{layer}.geojson"
        pyogrio.write_dataframe(
            frame.to_crs(4326), path, driver=driver, layer=layer, RFC7946="YES", COORDINATE_PRECISION=7
        )
    elif fmt == "gpkg":
        path = workdir / f"{layer}.gpkg"
        pyogrio.write_dataframe(frame, path, driver=driver, layer=layer)
    else:
        shp = workdir / f"{layer}.shp"
        pyogrio.write_dataframe(
            frame.rename(columns=SHAPEFILE_NAMES), shp, driver=driver, encoding=encoding, layer=layer
        )
        cpg = shp.with_suffix(".cpg")
        cpg.write_text(encoding, encoding="ascii")  # GDAL writes one too; make sure it names what we wrote
        path = workdir / f"{layer}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in SHAPEFILE_PARTS:
                member = shp.with_suffix(part)
                if member.exists():
                    zf.write(member, member.name)
    return ExportFile(path, media_type, suffix)
