"""Geometry repair on the way into the store: every stored area is a valid 2-D MULTIPOLYGON.

Files drawn by hand self-intersect ("bow ties"), carry Z values or mix in stray lines. ``make_valid`` fixes the
topology; only its polygonal part is kept, because a grid or an admin area is an area, never a line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

POLYGON = shapely.GeometryType.POLYGON


@dataclass(frozen=True)
class Repair:
    """Which inputs were invalid (and why), and which had no area left at all."""

    invalid: np.ndarray
    """bool per input: the geometry was invalid and was repaired."""
    reasons: np.ndarray
    """GEOS' reason per input (None where valid)."""
    empty: np.ndarray
    """bool per input: missing, or no polygonal part after repair."""


def polygonal_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons inside each geometry (two levels deep: collections of multipolygons), with input indices."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    parts2, idx2 = shapely.get_parts(parts, return_index=True)
    keep = shapely.get_type_id(parts2) == POLYGON
    keep &= ~shapely.is_empty(parts2)
    return parts2[keep], idx[idx2[keep]]


def repair_polygonal(geoms) -> tuple[np.ndarray, Repair]:
    """Valid 2-D MULTIPOLYGONs (None where nothing polygonal is left) and what was wrong with the input."""
    arr = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    arr = shapely.force_2d(arr)
    invalid = ~shapely.is_valid(arr) & ~missing
    reasons = np.full(len(arr), None, dtype=object)
    if invalid.any():
        reasons[invalid] = shapely.is_valid_reason(arr[invalid])
        arr = arr.copy()
        arr[invalid] = shapely.make_valid(arr[invalid])
    parts, idx = polygonal_parts(arr)
    out = np.full(len(arr), None, dtype=object)
    if len(parts):
        order = np.argsort(idx, kind="stable")
        shapely.multipolygons(parts[order], indices=idx[order], out=out)
    empty = shapely.is_missing(out)
    return out, Repair(invalid=invalid, reasons=reasons, empty=empty)
