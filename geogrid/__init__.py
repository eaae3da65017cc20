"""geogrid: management grids (网格化管理) from road networks to routed reports."""

__version__ = "0.1.0"

STORE_SRID = 4490
"""Every geometry in the store is CGCS2000 geographic (EPSG:4490), x = longitude, y = latitude."""
