"""Moved to :mod:`geogrid.geometry`; kept so existing imports (``geogrid.partition.geom``) keep working."""

from geogrid.geometry.edges import coverage_edges, edge_sides, face_sides, first_segment, sample_lines
from geogrid.geometry.parts import lines_only, polygons_only
from geogrid.geometry.union import grouped_union

__all__ = [
    "coverage_edges",
    "edge_sides",
    "face_sides",
    "first_segment",
    "grouped_union",
    "lines_only",
    "polygons_only",
    "sample_lines",
]
