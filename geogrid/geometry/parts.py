"""Exploding clipped geometry into clean single parts: only LineStrings, or only Polygons with area.

Why: clipping and overlay in GEOS return collections of mixed dimension (a line clipped along a polygon edge can
come back as a point plus segments). Every stage wants single parts of one kind and the index of the source row.
"""

from __future__ import annotations

import numpy as np
import shapely

LINESTRING, POLYGON, MULTILINESTRING, MULTIPOLYGON, COLLECTION = 1, 3, 5, 6, 7
"""GEOS type ids (``shapely.get_type_id``)."""


def _explode(parts: np.ndarray, idx: np.ndarray, type_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Explode the parts of type ``type_id`` one level further, keeping each part's source index."""
    mask = shapely.get_type_id(parts) == type_id
    if not mask.any():
        return parts, idx
    sub, sidx = shapely.get_parts(parts[mask], return_index=True)
    return np.concatenate([parts[~mask], sub]), np.concatenate([idx[~mask], idx[mask][sidx]])


def _single_parts(geoms: np.ndarray, *multi_types: int) -> tuple[np.ndarray, np.ndarray]:
    """Parts of ``geoms`` with collections nested in collections and the given multi types exploded too."""
    parts, idx = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    for type_id in (COLLECTION, *multi_types):
        parts, idx = _explode(parts, idx, type_id)
    return parts, idx


def lines_only(geoms: np.ndarray, return_index: bool = False):
    """Explode ``geoms`` and keep the non-degenerate LineStrings (clipping can yield points and collections)."""
    parts, idx = _single_parts(geoms, MULTILINESTRING)
    keep = (shapely.get_type_id(parts) == LINESTRING) & (shapely.length(parts) > 1e-6)
    return (parts[keep], idx[keep]) if return_index else parts[keep]


def polygons_only(geoms: np.ndarray, return_index: bool = False):
    """Explode ``geoms`` into single Polygons with positive area."""
    parts, idx = _single_parts(geoms, MULTIPOLYGON)
    keep = (shapely.get_type_id(parts) == POLYGON) & (shapely.area(parts) > 0)
    return (parts[keep], idx[keep]) if return_index else parts[keep]


def as_lines(geoms: np.ndarray) -> np.ndarray:
    """Lines of any geometry: polygons give their rings (a river polygon bounds blocks along both banks)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    poly = np.isin(shapely.get_type_id(geoms), (POLYGON, MULTIPOLYGON))
    return lines_only(np.where(poly, shapely.boundary(geoms), geoms))


def clip_lines(lines: np.ndarray, boundary) -> tuple[np.ndarray, np.ndarray]:
    """Lines clipped to ``boundary`` and their source index; lines wholly inside skip the (costly) overlay."""
    lines = np.asarray(lines, dtype=object)
    inside = shapely.contains_properly(boundary, lines)
    cut, cidx = lines_only(shapely.intersection(lines[~inside], boundary), return_index=True)
    keep = np.flatnonzero(inside)
    return np.concatenate([lines[keep], cut]), np.concatenate([keep, np.flatnonzero(~inside)[cidx]])


def interior_points(polys: np.ndarray) -> np.ndarray:
    """A point strictly inside each polygon, to find what holds it.

    Why not ``point_on_surface`` alone: for a sliver a few metres wide (the half of a median strip beside a community
    border) GEOS can return a point on or just outside the outline, and the sliver is then filed under the wrong
    community. Such points are replaced by the centre of the polygon's largest inscribed circle.
    """
    polys = np.asarray(polys, dtype=object)
    pts = shapely.point_on_surface(polys)
    bad = np.flatnonzero(~shapely.contains_properly(polys, pts) & (shapely.area(polys) > 0))
    if len(bad):
        pts[bad] = shapely.get_point(shapely.maximum_inscribed_circle(polys[bad]), 0)
    return pts
