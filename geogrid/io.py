"""Reading planners' vector files (Shapefile, GeoJSON, GeoPackage, GeoParquet, FlatGeobuf) into the store CRS.

Real files are messy: Shapefile attribute tables in GBK without a .cpg, GeoJSON in GCJ-02 that declares nothing,
empty layers. Every failure becomes an ``InputError`` naming the file (and field or feature) so a planner can fix it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geogrid.crs import CrsError, CrsSpec, parse_crs, to_store

PARQUET_SUFFIXES = {".parquet", ".geoparquet"}


class InputError(ValueError):
    """A file we cannot use as asked; the message names the file and what is wrong."""


def _read_raw(path: Path, encoding: str | None, layer: str | None) -> gpd.GeoDataFrame:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            return gpd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise InputError(f"{path}: not a readable GeoParquet file ({exc})") from exc
    kwargs: dict = {}
    if encoding:
        kwargs["encoding"] = encoding
    if layer:
        kwargs["layer"] = layer
    try:
        return pyogrio.read_dataframe(path, **kwargs)
    except (DataSourceError, DataLayerError) as exc:
        raise InputError(f"{path}: not a readable geospatial file ({str(exc).splitlines()[0]})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: attribute text is not valid {encoding or 'UTF-8'} ({exc.reason}); pass --encoding gbk "
            "(or the file's real encoding)"
        ) from exc
    except LookupError as exc:
        raise InputError(f"{path}: unknown encoding {encoding!r}") from exc


def _looks_like_gbk_read_as_latin1(value: str) -> bool:
    """A Shapefile without .cpg is decoded as ISO-8859-1; Chinese GBK text then turns into Latin-1 mojibake."""
    if not any("\x80" <= ch <= "\xff" for ch in value):
        return False
    try:
        value.encode("latin-1").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


def _check_text(gdf: gpd.GeoDataFrame, path: Path, encoding: str | None) -> None:
    """Refuse text that was decoded wrongly rather than storing mojibake silently."""
    for column in gdf.columns:
        if column == gdf.geometry.name or not (gdf[column].dtype == object or str(gdf[column].dtype) == "str"):
            continue
        values = gdf[column].dropna().astype(str)
        bad = values.str.contains("\ufffd", regex=False)
        if encoding is None and path.suffix.lower() == ".shp":
            bad |= values.map(_looks_like_gbk_read_as_latin1).astype(bool)
        if bad.any():
            row = values.index[bad.to_numpy()][0]
            raise InputError(
                f"{path}: field {column!r} of feature {row} holds text that is not valid in the encoding used "
                f"({encoding or 'the file default'}); pass --encoding gbk (or the file's real encoding)"
            )


def read_vector(
    path: str | Path,
    *,
    crs: str | CrsSpec | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read ``path`` into EPSG:4490, converting offset or projected coordinates; raise ``InputError`` on bad input."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        spec = parse_crs(crs) if crs is not None and not isinstance(crs, CrsSpec) else crs
    except CrsError as exc:
        raise InputError(f"{path}: {exc}") from exc
    gdf = _read_raw(path, encoding, layer)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(f"{path}: has no geometry column")
    if len(gdf) == 0:
        raise InputError(f"{path}: the layer is empty (no features)")
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.all():
        raise InputError(f"{path}: no feature has a geometry")
    _check_text(gdf, path, encoding)
    gdf = gdf.loc[~missing].copy()
    return to_store(gdf, spec)


def require_fields(gdf: gpd.GeoDataFrame, path: str | Path, *fields: str) -> None:
    """Raise ``InputError`` naming the first missing field and the fields the file does have."""
    have = [c for c in gdf.columns if c != gdf.geometry.name]
    for field in fields:
        if field not in gdf.columns:
            raise InputError(f"{path}: no field {field!r}; the file has: {', '.join(have) or '(none)'}")


def guess_field(gdf: gpd.GeoDataFrame, candidates: tuple[str, ...]) -> str | None:
    """The first column matching one of ``candidates`` (case-insensitive), or None."""
    lower = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
    for name in candidates:
        if name.lower() in lower:
            return lower[name.lower()]
    return None
