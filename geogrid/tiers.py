"""Tier of every block: from planner-drawn tier zones, else from a rule on road class and density.

The rule (DOMAIN: core with main roads → A; secondary roads and residential communities → B; villages and
suburban roads → C), applied per community (or per 1 km cell when no communities are given):

- a village (村: the community part of the 12-digit code is 200–399) → **C**;
- road density ρ = half the summed block perimeters / area (≈ km of road centreline per km²);
  ρ ≥ 9 km/km² and the unit touches a main road (motorway/trunk/primary) → **A**;
- ρ ≥ 4 km/km² → **B**; otherwise → **C**.

9 km/km² is a block grid of ~220 m (urban core), 4 km/km² one of ~500 m (residential/suburban).
"""

from __future__ import annotations

import numpy as np
import shapely

DENSITY_A = 9.0
DENSITY_B = 4.0
CELL_M = 1000.0


def is_village(code: str) -> bool:
    """True for 村 codes: 12 digits whose last three (community/village part) are 200–399."""
    return len(code) == 12 and code.isdigit() and 200 <= int(code[9:]) <= 399


def auto_tiers(
    blocks: np.ndarray,
    unit: np.ndarray,
    unit_codes: dict[int, str],
    main_roads: np.ndarray,
) -> tuple[np.ndarray, dict]:
    """Tier per block by the rule above; ``unit`` groups blocks (community index, or -1 for none → 1 km cells)."""
    unit = unit.copy()
    nocomm = unit < 0
    if nocomm.any():
        c = shapely.get_coordinates(shapely.centroid(blocks[nocomm]))
        cell = np.floor(c / CELL_M).astype(np.int64)
        _, cell_id = np.unique(cell, axis=0, return_inverse=True)
        unit[nocomm] = -1 - cell_id.ravel()
    uniq, inv = np.unique(unit, return_inverse=True)
    area = np.bincount(inv, weights=shapely.area(blocks))
    perim = np.bincount(inv, weights=shapely.length(blocks))
    density = perim / 2.0 / 1000.0 / np.maximum(area / 1e6, 1e-9)
    touches_main = np.zeros(len(uniq), dtype=bool)
    if len(main_roads):
        bi, _ = shapely.STRtree(main_roads).query(blocks, predicate="dwithin", distance=30.0)
        touches_main[np.unique(inv[bi])] = True
    tier_of_unit = np.where((density >= DENSITY_A) & touches_main, "A", np.where(density >= DENSITY_B, "B", "C"))
    for k, u in enumerate(uniq):
        if u >= 0 and is_village(unit_codes.get(int(u), "")):
            tier_of_unit[k] = "C"
    stats = {"density_km_per_km2": {str(u): round(float(d), 2) for u, d in zip(uniq, density, strict=True)}}
    return tier_of_unit[inv].astype(object), stats


def zone_tiers(blocks: np.ndarray, zones: np.ndarray, zone_tier: np.ndarray) -> np.ndarray:
    """Tier of the zone holding each block's representative point (None outside every zone)."""
    out = np.full(len(blocks), None, dtype=object)
    if len(zones) == 0:
        return out
    pi, zi = shapely.STRtree(zones).query(shapely.point_on_surface(blocks), predicate="within")
    out[pi] = np.asarray(zone_tier, dtype=object)[zi]
    return out
