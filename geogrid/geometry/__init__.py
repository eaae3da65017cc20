"""Vectorised geometry helpers shared by ``roads`` and ``partition``: clean parts, unions, edges, graphs, faces.

The lowest layer of the engine: it imports only shapely, numpy, scipy and ``geogrid.metrics`` (formulas), never
``roads`` or ``partition``, so both can build on it without importing each other.
"""

from geogrid.geometry.edges import coverage_edges, edge_sides, face_sides, first_segment, near, sample_lines
from geogrid.geometry.faces import FaceSet, build_faces, rebuild_coverage
from geogrid.geometry.graph import adjacency, components, first_value, heaviest_neighbour
from geogrid.geometry.parts import as_lines, clip_lines, interior_points, lines_only, polygons_only
from geogrid.geometry.union import grouped_union

__all__ = [
    "FaceSet",
    "adjacency",
    "as_lines",
    "build_faces",
    "clip_lines",
    "components",
    "coverage_edges",
    "edge_sides",
    "face_sides",
    "first_segment",
    "first_value",
    "grouped_union",
    "heaviest_neighbour",
    "interior_points",
    "lines_only",
    "near",
    "polygons_only",
    "rebuild_coverage",
    "sample_lines",
]
