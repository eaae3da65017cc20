"""Moved to :mod:`geogrid.geometry.faces`; kept so existing imports (``geogrid.partition.faces``) keep working.

``build_faces`` here fills in the default artefact half-widths per road class, as it did before the move.
"""

from __future__ import annotations

import numpy as np

from geogrid.geometry.faces import FaceSet, rebuild_coverage
from geogrid.geometry.faces import build_faces as _build_faces
from geogrid.roads.classes import DEFAULT_HALF_WIDTHS


def build_faces(road_lines, road_class, boundary, communities=None, barrier_lines=None, half_widths=None) -> FaceSet:
    """:func:`geogrid.geometry.faces.build_faces` with ``DEFAULT_HALF_WIDTHS`` under ``half_widths``."""
    widths = {**DEFAULT_HALF_WIDTHS, **(half_widths or {})}
    return _build_faces(np.asarray(road_lines), road_class, boundary, communities, barrier_lines, widths)


__all__ = ["DEFAULT_HALF_WIDTHS", "FaceSet", "build_faces", "rebuild_coverage"]
