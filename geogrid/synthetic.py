"""Moved to :mod:`geogrid.demo.district` (demo data generation lives with the demo); kept for existing imports."""

from geogrid.demo.district import (
    DEFAULT_AREA_KM2,
    DEFAULT_ORIGIN,
    SMALL_AREA_KM2,
    SyntheticDistrict,
    make_district,
    small_district,
    write_district,
)

__all__ = [
    "DEFAULT_AREA_KM2",
    "DEFAULT_ORIGIN",
    "SMALL_AREA_KM2",
    "SyntheticDistrict",
    "make_district",
    "small_district",
    "write_district",
]
