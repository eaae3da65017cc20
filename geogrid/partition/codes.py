"""Grid codes: 12-digit community code + 3-digit sequence, west→east then north→south inside the community.

Source: Beijing DB11/T 2157-2023 (15 digits; numbered west→east, north→south). Rows are bands one typical grid
high, so grids side by side share a row and are numbered left to right, like reading a page.
"""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.partition.errors import PartitionError


def grid_codes(geoms: np.ndarray, community_code: np.ndarray) -> np.ndarray:
    """15-digit code per grid; raises PartitionError when a community would need more than 999 grids."""
    geoms = np.asarray(geoms, dtype=object)
    community_code = np.asarray(community_code, dtype=object)
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    area = shapely.area(geoms)
    out = np.empty(len(geoms), dtype=object)
    for code in np.unique(community_code):
        idx = np.flatnonzero(community_code == code)
        if len(idx) > 999:
            raise PartitionError(
                f"community {code} would need {len(idx)} grids; codes allow 999 (raise the area target)"
            )
        band = max(float(np.sqrt(np.median(area[idx]))), 1.0)
        top = xy[idx, 1].max()
        row = np.floor((top - xy[idx, 1]) / band + 0.5)
        order = np.lexsort((xy[idx, 0], row))
        for seq, j in enumerate(idx[order], start=1):
            out[j] = f"{code}{seq:03d}"
    return out
