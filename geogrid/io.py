"""Reading planners' vector files (Shapefile, GeoJSON, GeoPackage, GeoParquet, FlatGeobuf) into the store CRS.

Real files are messy: Shapefile attribute tables in GBK without a .cpg, GeoJSON in GCJ-02 that declares nothing,
empty layers, GeoPackages holding several layers. Every failure becomes an ``InputError`` naming the file (and
field, feature or layer) so a planner can fix it. ``FILE:LAYER`` names one layer of a multi-layer file; a file with
several layers and no layer named is refused (reading "the first one" silently is how wrong plans are made).
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


def parse_source(spec: str | Path, layer: str | None = None) -> tuple[Path, str | None]:
    """``FILE`` or ``FILE:LAYER`` → (path, layer). An existing file name wins over a ``:`` inside it.

    >>> parse_source("plan.gpkg:grids")
    (PosixPath('plan.gpkg'), 'grids')
    """
    path = Path(spec)
    text = str(spec)
    if layer is None and not path.exists() and ":" in text:
        head, _, tail = text.rpartition(":")
        if head and tail and "/" not in tail:
            return Path(head), tail
    return path, layer


def source_name(path: Path, layer: str | None) -> str:
    """How messages name an input: ``FILE`` or ``FILE:LAYER``."""
    return f"{path}:{layer}" if layer else str(path)


def _pick_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: the one named (it must exist), the only one, or an error listing them."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return None
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError) as exc:
        raise InputError(f"{path}: not a readable geospatial file ({str(exc).splitlines()[0]})") from exc
    if layer is not None:
        if layer not in layers:
            raise InputError(f"{path}: no layer {layer!r}; the file has: {', '.join(layers) or '(none)'}")
        return layer
    if len(layers) > 1:
        raise InputError(f"{path}: the file holds {len(layers)} layers ({', '.join(layers)}); name one as {path}:LAYER")
    return None


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


def read_raw(
    source: str | Path, *, encoding: str | None = None, layer: str | None = None
) -> tuple[gpd.GeoDataFrame, str]:
    """The features of ``source`` (``FILE`` or ``FILE:LAYER``) as stored, and the name messages should use."""
    path, layer = parse_source(source, layer)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    layer = _pick_layer(path, layer)
    name = source_name(path, layer)
    gdf = _read_raw(path, encoding, layer)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(f"{name}: has no geometry column")
    if len(gdf) == 0:
        raise InputError(f"{name}: the layer is empty (no features)")
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.all():
        raise InputError(f"{name}: no feature has a geometry")
    _check_text(gdf, Path(name), encoding)
    return gdf.loc[~missing].copy(), name


def read_vector(
    path: str | Path,
    *,
    crs: str | CrsSpec | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    lonlat_check: bool = False,
) -> gpd.GeoDataFrame:
    """Read ``path`` (``FILE`` or ``FILE:LAYER``) into EPSG:4490, converting offset or projected coordinates.

    Raises ``InputError`` on bad input: a missing file or layer, a multi-layer file with no layer named, an empty
    layer, undecodable text, an unknown CRS; with ``lonlat_check``, also coordinates that cannot be longitude and
    latitude (a projected file that declares no CRS, or a wrong one).
    """
    try:
        spec = parse_crs(crs) if crs is not None and not isinstance(crs, CrsSpec) else crs
    except CrsError as exc:
        raise InputError(f"{parse_source(path, layer)[0]}: {exc}") from exc
    gdf, name = read_raw(path, encoding=encoding, layer=layer)
    declared = gdf.crs
    out = to_store(gdf, spec)
    x0, y0, x1, y1 = out.total_bounds
    if lonlat_check and not (-180.0 <= x0 <= x1 <= 180.0 and -90.0 <= y0 <= y1 <= 90.0):
        given = f"declares {declared.name}" if declared is not None and spec is None else "declares no CRS"
        raise InputError(
            f"{name}: coordinates up to ({x1:.0f}, {y1:.0f}) are not longitude/latitude; the file {given}: "
            "pass its CRS (--crs, or the layer's own --…-crs option), e.g. EPSG:4545"
        )
    return out


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
