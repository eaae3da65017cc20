"""Road networks: reading (OSM PBF/XML, vector files), classes and centreline cleaning."""

from geogrid.roads.classes import CLASS_NAMES, HIGHWAY_CLASS, classify
from geogrid.roads.clean import clean_centerlines
from geogrid.roads.read import read_roads

__all__ = ["CLASS_NAMES", "HIGHWAY_CLASS", "classify", "clean_centerlines", "read_roads"]
