"""Stage 9, ``grids_from_blocks``: dissolve each grid's blocks into one polygon and give it its 15-digit code.

Why a stage: the dissolve must give exactly one valid Polygon per grid (the guarantee planners rely on), so the fast
coverage union is checked and redone with a full union where it falls short, and a grid that still is not one valid
polygon stops the run instead of reaching the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.geometry import first_value, grouped_union
from geogrid.geometry.parts import POLYGON
from geogrid.partition.aggregate import Plan
from geogrid.partition.codes import grid_codes
from geogrid.partition.errors import PartitionError
from geogrid.partition.inputs import Inputs


@dataclass
class Grids:
    """One row per grid (metric CRS), in grid-id order; ``plan.grid_of`` indexes these rows."""

    geoms: np.ndarray
    tier: np.ndarray
    community_code: np.ndarray
    code: np.ndarray
    plan: Plan

    def __len__(self) -> int:
        return len(self.geoms)


def _dissolve(geoms: np.ndarray, grid_of: np.ndarray) -> np.ndarray:
    """One geometry per grid id: coverage union, redone with a full union where it is invalid or multi-part."""
    _, out = grouped_union(geoms, grid_of, coverage=True)
    bad = (shapely.get_num_geometries(out) != 1) | ~shapely.is_valid(out)
    if bad.any():
        _, full = grouped_union(geoms, grid_of, coverage=False)
        out[bad] = shapely.make_valid(full[bad])
    return out


def grids_from_blocks(plan: Plan, inp: Inputs) -> Grids:
    """Grid polygons, tiers, community codes and codes; raises ``PartitionError`` on a multi-part or invalid grid."""
    b = plan.blocks
    geoms = _dissolve(b.geoms, plan.grid_of)
    # a single-part collection (a polygon and a stray line) becomes the polygon itself
    geoms = np.where(shapely.get_num_geometries(geoms) == 1, shapely.get_geometry(geoms, 0), geoms)
    bad = (shapely.get_type_id(geoms) != POLYGON) | ~shapely.is_valid(geoms)
    if bad.any():
        where = [shapely.get_coordinates(shapely.point_on_surface(g))[0].round(1).tolist() for g in geoms[bad]]
        raise PartitionError(f"{int(bad.sum())} grid(s) would not be one valid polygon (internal error)", places=where)
    ids = np.arange(len(geoms))
    comm = inp.code_of(first_value(plan.grid_of, b.community, ids))
    tier = first_value(plan.grid_of, b.tier, ids)
    return Grids(geoms=geoms, tier=tier, community_code=comm, code=grid_codes(geoms, comm), plan=plan)
