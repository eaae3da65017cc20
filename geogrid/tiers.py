"""Tier of every block: from planner-drawn tier zones, else from a rule on road class and density.

The rule (DOMAIN: core with main roads → A; secondary roads and residential communities → B; villages and
suburban roads → C), applied per community, or around each block (within ``DENSITY_RADIUS_M``) where there are no
communities:

- a village (村: the community part of the 12-digit code is 200–399) → **C**;
- road density ρ = half the summed block perimeters / area (≈ km of road centreline per km²);
  ρ ≥ 9 km/km² and a main road (motorway/trunk/primary) touches the community (or lies within the radius) → **A**;
- ρ ≥ 4 km/km² → **B**; otherwise → **C**.

9 km/km² is a block grid of ~220 m (urban core), 4 km/km² one of ~500 m (residential/suburban). A moving window
rather than fixed 1 km cells: cells cut through neighbourhoods and leave a checkerboard of tiers.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from geogrid.geometry.parts import interior_points

DENSITY_A = 9.0
DENSITY_B = 4.0
DENSITY_RADIUS_M = 600.0
"""Window radius for the density of blocks outside every community (a 1.2 km neighbourhood)."""
MAIN_TOUCH_M = 30.0


def is_village(code: str) -> bool:
    """True for 村 codes: 12 digits whose last three (community/village part) are 200–399."""
    return len(code) == 12 and code.isdigit() and 200 <= int(code[9:]) <= 399


def _rule(density: np.ndarray, near_main: np.ndarray) -> np.ndarray:
    return np.where((density >= DENSITY_A) & near_main, "A", np.where(density >= DENSITY_B, "B", "C")).astype(object)


def _window_density(xy: np.ndarray, area: np.ndarray, perim: np.ndarray, radius: float) -> np.ndarray:
    """Road density (km/km²) around each block: blocks whose centroids lie within ``radius``, itself included."""
    n = len(xy)
    # symmetric 0/1 matrix of centroid pairs within the radius, plus the diagonal (each block is in its window)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    window = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    # half the perimeters summed over the window is its road length (each road bounds two blocks)
    return (window @ (perim / 2.0)) / 1000.0 / np.maximum((window @ area) / 1e6, 1e-9)


def auto_tiers(
    blocks: np.ndarray,
    unit: np.ndarray,
    unit_codes: dict[int, str],
    main_roads: np.ndarray,
) -> tuple[np.ndarray, dict]:
    """Tier per block by the rule above; ``unit`` is the community index per block (-1 = none: moving window)."""
    area, perim = shapely.area(blocks), shapely.length(blocks)
    tier = np.empty(len(blocks), dtype=object)
    mains = shapely.STRtree(main_roads) if len(main_roads) else None
    stats: dict = {"density_km_per_km2": {}}
    inside = unit >= 0
    if inside.any():
        # per community: one density and one main-road test for all its blocks
        uniq, inv = np.unique(unit[inside], return_inverse=True)
        density = np.bincount(inv, weights=perim[inside]) / 2.0 / 1000.0
        density /= np.maximum(np.bincount(inv, weights=area[inside]) / 1e6, 1e-9)
        touches = np.zeros(len(uniq), dtype=bool)
        if mains is not None:
            bi, _ = mains.query(blocks[inside], predicate="dwithin", distance=MAIN_TOUCH_M)
            touches[np.unique(inv[bi])] = True
        t = _rule(density, touches)
        t[[is_village(unit_codes.get(int(u), "")) for u in uniq]] = "C"
        tier[inside] = t[inv]
        stats["density_km_per_km2"] = {str(u): round(float(d), 2) for u, d in zip(uniq, density, strict=True)}
    if (~inside).any():
        xy = shapely.get_coordinates(shapely.centroid(blocks[~inside]))
        density = _window_density(xy, area[~inside], perim[~inside], DENSITY_RADIUS_M)
        near_main = np.zeros(len(xy), dtype=bool)
        if mains is not None:
            pi, _ = mains.query(shapely.points(xy), predicate="dwithin", distance=DENSITY_RADIUS_M)
            near_main[pi] = True
        tier[~inside] = _rule(density, near_main)
    return tier, stats


def zone_tiers(blocks: np.ndarray, zones: np.ndarray, zone_tier: np.ndarray) -> np.ndarray:
    """Tier of the zone holding each block's representative point (None outside every zone)."""
    out = np.full(len(blocks), None, dtype=object)
    if len(zones) == 0:
        return out
    pi, zi = shapely.STRtree(zones).query(interior_points(blocks), predicate="within")
    out[pi] = np.asarray(zone_tier, dtype=object)[zi]
    return out
