"""How big a block is for balancing: its area, its workload, or both, in units of its tier's target grid.

Why one measure in target units: every stage that balances (counts, splitting, merging) compares sizes with a
tier's target; expressing sizes as "how many target grids" makes the target 1 for every tier and every balancing
mode, so the stages never need to know which mode is on.

- ``area``: area minus excluded land (mountain, water: seed 003, "山体占地未计算在内") over the tier's target area;
- ``weight``: the workload inside (households, people, cases, floor area) over the tier's target weight — land with
  no weight counts for nothing;
- ``both``: the mean of the two.

A tier without a configured target weight gets the one that makes as many grids as its target area would, at the
jurisdiction's mean workload density (total weight / counted area).
"""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.partition.inputs import Inputs


class Sizer:
    """Measures polygons (metric CRS) of given tiers in target units."""

    def __init__(self, inp: Inputs):
        self.inp, cfg = inp, inp.config
        self.mode = cfg.balance
        self.points = shapely.STRtree(shapely.points(inp.weight_xy)) if len(inp.weight) else None
        self.excluded = shapely.STRtree(inp.exclude) if len(inp.exclude) else None
        counted = inp.area_m2 - float(shapely.area(shapely.union_all(inp.exclude))) if len(inp.exclude) else inp.area_m2
        self.density = float(inp.weight.sum()) / max(counted, 1.0)
        """Mean workload per counted m² of the jurisdiction."""
        self._target_weight = {}
        for t, spec in cfg.tiers.items():
            if cfg.target_count is not None:
                self._target_weight[t] = float(inp.weight.sum()) / cfg.target_count
            elif spec.target_weight is not None:
                self._target_weight[t] = spec.target_weight
            else:
                self._target_weight[t] = spec.target_area_m2 * self.density

    def counted_area(self, geoms: np.ndarray) -> np.ndarray:
        """Area (m²) of each polygon outside the excluded land."""
        area = shapely.area(np.asarray(geoms, dtype=object))
        if self.excluded is None:
            return area
        gi, xi = self.excluded.query(geoms, predicate="intersects")
        lost = shapely.area(shapely.intersection(np.asarray(geoms, dtype=object)[gi], self.inp.exclude[xi]))
        return area - np.bincount(gi, weights=lost, minlength=len(area))

    def weight(self, geoms: np.ndarray) -> np.ndarray:
        """Workload inside each polygon (a point on an edge goes to one side only)."""
        geoms = np.asarray(geoms, dtype=object)
        if self.points is None:
            return np.zeros(len(geoms))
        gi, pi = self.points.query(geoms, predicate="intersects")
        # a point shared by two polygons (on their common edge) counts once, for the first
        _, first = np.unique(pi, return_index=True)
        return np.bincount(gi[first], weights=self.inp.weight[pi[first]], minlength=len(geoms))

    def target_area(self, tiers: np.ndarray) -> np.ndarray:
        cfg = self.inp.config
        return np.array([cfg.target_area_of(t, self.inp.area_m2) for t in tiers])

    def target_weight(self, tiers: np.ndarray) -> np.ndarray:
        return np.array([self._target_weight[t] for t in tiers])

    def __call__(self, geoms: np.ndarray, tiers: np.ndarray) -> np.ndarray:
        """Size of each polygon in units of its tier's target grid."""
        if self.mode == "area":
            return self.counted_area(geoms) / self.target_area(tiers)
        by_weight = self.weight(geoms) / np.maximum(self.target_weight(tiers), 1e-12)
        if self.mode == "weight":
            return by_weight
        return 0.5 * (self.counted_area(geoms) / self.target_area(tiers) + by_weight)
