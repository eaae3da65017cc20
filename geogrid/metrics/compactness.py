"""Shape and balance metrics of grid polygons (metric CRS), as momepy and the redistricting literature define them.

Each metric is written once here; the engine, the report, the tests and the benchmarks all call these.
"""

from __future__ import annotations

import numpy as np
import shapely


def polsby_popper_ratio(area, perimeter):
    """Polsby-Popper score from area and perimeter (for unions whose perimeter is known without a geometry).

    .. math:: PP = \\frac{4 \\pi A}{P^2}

    0 for a zero perimeter; a unit square scores π/4:

    >>> round(float(polsby_popper_ratio(1.0, 4.0)), 4)
    0.7854
    """
    area = np.asarray(area, dtype=float)
    perimeter = np.asarray(perimeter, dtype=float)
    return np.where(perimeter > 0, 4.0 * np.pi * area / np.maximum(perimeter, 1e-12) ** 2, 0.0)


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """Polsby-Popper compactness of each polygon: 1 for a circle, π/4 for a square, → 0 for a strip.

    .. math:: PP = \\frac{4 \\pi A}{P^2}

    Source: Polsby & Popper (1991), "The third criterion: compactness as a procedural safeguard against partisan
    gerrymandering", Yale Law & Policy Review 9(2); momepy ``CircularCompactness`` family.

    >>> round(float(polsby_popper(np.array([shapely.box(0, 0, 10, 10)]))[0]), 4)
    0.7854
    """
    geoms = np.asarray(geoms, dtype=object)
    return polsby_popper_ratio(shapely.area(geoms), shapely.length(geoms))


def reock(geoms: np.ndarray) -> np.ndarray:
    """Reock compactness: area over the area of the minimum bounding circle (1 for a circle, 2/π for a square).

    .. math:: R = \\frac{A}{\\pi r^2}, \\quad r = \\text{radius of the minimum bounding circle}

    Source: Reock (1961), "A note: measuring compactness as a requirement of legislative apportionment",
    Midwest Journal of Political Science 5(1).

    >>> round(float(reock(np.array([shapely.box(0, 0, 10, 10)]))[0]), 4)
    0.6366
    """
    geoms = np.asarray(geoms, dtype=object)
    return reock_ratio(shapely.area(geoms), shapely.minimum_bounding_radius(geoms))


def reock_ratio(area, radius):
    """Reock score from area and the radius of the minimum bounding circle (for unions measured without a geometry).

    >>> round(float(reock_ratio(100.0, np.sqrt(50.0))), 4)
    0.6366
    """
    area = np.asarray(area, dtype=float)
    radius = np.asarray(radius, dtype=float)
    return np.where(radius > 0, area / (np.pi * np.maximum(radius, 1e-12) ** 2), 0.0)


def area_cv(values: np.ndarray) -> float:
    """Coefficient of variation of grid sizes (areas or workloads), population σ; 0 = all equal.

    .. math:: CV = \\frac{\\sigma}{\\mu}

    >>> area_cv(np.array([1.0, 3.0]))
    0.5
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0 or values.mean() == 0:
        return 0.0
    return float(values.std() / values.mean())


def max_mean_ratio(values: np.ndarray) -> float:
    """max / mean of grid sizes: the largest grid relative to the average (target ≤ 1.3).

    >>> max_mean_ratio(np.array([1.0, 3.0]))
    1.5
    """
    values = np.asarray(values, dtype=float)
    return float(values.max() / values.mean()) if len(values) and values.mean() > 0 else 0.0
