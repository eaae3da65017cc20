"""How big a block is for balancing: its area, its workload, or both, in units of its tier's target grid.

Why one measure in target units: every stage that balances (counts, splitting, merging, the report) compares sizes
with a tier's target; expressing sizes as "how many target grids" makes the target 1 for every tier and every
balancing mode, so the stages never need to know which mode is on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geogrid.partition.inputs import Inputs


@dataclass
class Sizer:
    """Measures polygons (metric CRS) of given tiers in target units."""

    inp: Inputs

    def target_area(self, tiers: np.ndarray) -> np.ndarray:
        cfg = self.inp.config
        return np.array([cfg.target_area_of(t, self.inp.area_m2) for t in tiers])

    def __call__(self, geoms: np.ndarray, tiers: np.ndarray) -> np.ndarray:
        """Size of each polygon in units of its tier's target grid."""
        return shapely.area(np.asarray(geoms, dtype=object)) / self.target_area(tiers)
