"""Moved to :mod:`geogrid.demo.district` (demo data generation lives with the demo); kept for existing imports."""

from geogrid.demo import district as _district
from geogrid.demo.district import *  # noqa: F403

__all__ = _district.__all__
