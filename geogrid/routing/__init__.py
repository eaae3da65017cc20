"""Locate and route: a point in any CRS → its grids and admin chain → the responsible unit and time limit."""

from geogrid.routing.locate import LocateResult, PointError, locate
from geogrid.routing.route import RouteResult, route

__all__ = ["LocateResult", "PointError", "RouteResult", "locate", "route"]
