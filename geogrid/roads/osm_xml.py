"""Read ways with a ``highway`` tag from an OSM XML file (``.osm``) into LineStrings (EPSG:4326)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely


def read_osm_xml(path: str | Path, tag: str = "highway") -> gpd.GeoDataFrame:
    """Streaming parse (iterparse) so a city-size file does not sit in memory as a tree."""
    node_id: list[int] = []
    node_xy: list[tuple[float, float]] = []
    ways: list[tuple[list[int], str]] = []
    for _, elem in ET.iterparse(str(path), events=("end",)):
        if elem.tag == "node":
            node_id.append(int(elem.get("id")))
            node_xy.append((float(elem.get("lon")), float(elem.get("lat"))))
            elem.clear()
        elif elem.tag == "way":
            value = next((t.get("v") for t in elem.iter("tag") if t.get("k") == tag), None)
            if value is not None:
                ways.append(([int(nd.get("ref")) for nd in elem.iter("nd")], value))
            elem.clear()
    ids = np.asarray(node_id, dtype=np.int64)
    xy = np.asarray(node_xy, dtype=float).reshape(-1, 2)
    order = np.argsort(ids)
    ids, xy = ids[order], xy[order]
    refs = [np.asarray(r, dtype=np.int64) for r, _ in ways]
    lengths = np.array([len(r) for r in refs], dtype=np.int64)
    flat = np.concatenate(refs) if refs else np.empty(0, dtype=np.int64)
    pos = np.searchsorted(ids, flat)
    pos = np.clip(pos, 0, max(len(ids) - 1, 0))
    found = ids[pos] == flat if len(ids) else np.zeros(len(flat), dtype=bool)
    way_idx = np.repeat(np.arange(len(refs)), lengths)
    coords = xy[pos[found]]
    way_idx = way_idx[found]
    counts = np.bincount(way_idx, minlength=len(refs))
    ok = counts >= 2
    keep = ok[way_idx]
    lines = shapely.linestrings(coords[keep], indices=np.searchsorted(np.flatnonzero(ok), way_idx[keep]))
    highway = [v for (r, v), good in zip(ways, ok, strict=True) if good]
    return gpd.GeoDataFrame({"highway": highway}, geometry=lines, crs=4326)
