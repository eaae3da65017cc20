"""Read a road network from OSM PBF, OSM XML or any vector file into EPSG:4490 with a ``road_class`` column."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from geogrid.crs import to_store
from geogrid.geometry import lines_only
from geogrid.io import InputError, parse_source, read_vector, require_fields
from geogrid.roads.classes import NOT_A_ROAD, classify

CLASS_FIELD_GUESSES = ("highway", "fclass", "road_class", "class", "grade", "等级", "道路等级")


def _read_pbf(path: Path) -> gpd.GeoDataFrame:
    import pyrosm  # heavy import: only for PBF input

    try:
        net = pyrosm.OSM(str(path)).get_network(network_type="all")
    except Exception as exc:  # pyrosm raises bare exceptions on corrupt files
        raise InputError(f"{path}: cannot read as OSM PBF ({exc})") from exc
    if net is None or len(net) == 0:
        raise InputError(f"{path}: the OSM file has no highway ways")
    return gpd.GeoDataFrame({"highway": net["highway"].astype(str)}, geometry=net.geometry.values, crs=4326)


def _read_xml(path: Path) -> gpd.GeoDataFrame:
    from xml.etree.ElementTree import ParseError

    from geogrid.roads.osm_xml import read_osm_xml

    try:
        gdf = read_osm_xml(path)
    except (ParseError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: cannot read as OSM XML ({exc})") from exc
    if len(gdf) == 0:
        raise InputError(f"{path}: the OSM file has no highway ways")
    return gdf


def read_roads(
    path: str | Path,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    class_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Roads as single LineStrings in EPSG:4490 with ``highway`` (source value) and ``road_class`` (1–4).

    ``path`` may be ``FILE:LAYER`` for a multi-layer vector file. The class comes from ``class_field`` (strict:
    unknown values are an error naming them), else from the first
    field named like an OSM/planning class (``highway``, ``fclass``, ``等级``…), else every line is a local road.
    Lines that are not roads (``highway=construction``, ``platform``…) are dropped.
    """
    path, layer = parse_source(path, layer)
    name = path.name.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    osm = name.endswith((".pbf", ".osm", ".osm.xml"))
    if osm and layer:
        raise InputError(f"{path}: an OSM file has no layers; drop ':{layer}'")
    if name.endswith(".pbf"):
        gdf = to_store(_read_pbf(path), crs)
    elif osm:
        gdf = to_store(_read_xml(path), crs)
    else:
        gdf = read_vector(path, crs=crs, encoding=encoding, layer=layer)
    if class_field is not None:
        require_fields(gdf, path, class_field)
        try:
            cls = classify(gdf[class_field], strict=True)
        except ValueError as exc:
            raise InputError(f"{path}: field {class_field!r}: {exc}") from exc
        source = gdf[class_field].astype(str).to_numpy()
    else:
        lower = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
        field = next((lower[g.lower()] for g in CLASS_FIELD_GUESSES if g.lower() in lower), None)
        if field is None:
            cls = np.full(len(gdf), 3, dtype=np.int64)
            source = np.full(len(gdf), "", dtype=object)
        else:
            cls = classify(gdf[field])
            source = gdf[field].astype(str).to_numpy()
    lines, idx = lines_only(gdf.geometry.to_numpy(), return_index=True)
    if len(lines) == 0:
        raise InputError(f"{path}: no line geometries (roads must be LineStrings)")
    out = gpd.GeoDataFrame({"highway": source[idx], "road_class": cls[idx]}, geometry=lines, crs=gdf.crs)
    out = out[out["road_class"] != NOT_A_ROAD].reset_index(drop=True)
    if len(out) == 0:
        raise InputError(f"{path}: no feature is a road (check the class field)")
    return out
