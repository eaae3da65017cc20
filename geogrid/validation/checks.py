"""Topology checks of one plan, vectorised with shapely 2 on metric coordinates (metres, square metres).

Every function takes numpy arrays of shapely geometries already projected to one local metric CRS and returns
plain arrays; turning them into a report (codes, lon/lat points, JSON) is ``report``'s job.

Tolerances (see ``Tolerances``) exist because boundaries digitised by different people never coincide exactly:
a slip of a few centimetres along a kilometre of shared border is not a planning error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import shapely

from geogrid.validation.repair import polygonal_parts


@dataclass(frozen=True)
class Tolerances:
    """What counts as a problem. A gap or overlap piece counts above ``gap_min_m2``/``overlap_min_m2``; a grid
    crosses its community border (or leaves the jurisdiction) when the area outside exceeds BOTH
    ``outside_min_m2`` and ``outside_min_share`` of the grid's own area."""

    gap_min_m2: float = 1.0
    overlap_min_m2: float = 1.0
    outside_min_m2: float = 1.0
    outside_min_share: float = 0.001

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Pieces:
    """Polygons found by a check (largest first), their areas, an interior point each, and the indices of the
    grids they concern (-1 when not applicable)."""

    geoms: np.ndarray
    area: np.ndarray
    points: np.ndarray
    left: np.ndarray
    right: np.ndarray


def areal(geoms: np.ndarray) -> np.ndarray:
    """Polygonal part of each overlay result (an empty MULTIPOLYGON where polygons merely touched)."""
    parts, idx = polygonal_parts(geoms)
    out = np.full(len(geoms), None, dtype=object)
    if len(parts):
        shapely.multipolygons(parts, indices=idx, out=out)
    out[shapely.is_missing(out)] = shapely.MultiPolygon()
    return out


def main_point(geoms: np.ndarray) -> np.ndarray:
    """An interior point of each geometry's largest part (overlays leave hairline slivers along shared borders,
    and GEOS' point-on-surface of the whole may land on one of them)."""
    out = np.full(len(geoms), None, dtype=object)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    if len(parts):
        frame = pd.DataFrame({"idx": idx, "area": shapely.area(parts)})
        best = frame.groupby("idx")["area"].idxmax().to_numpy()
        out[idx[best]] = shapely.point_on_surface(parts[best])
    return out


def _pieces(geoms: np.ndarray, left: np.ndarray, right: np.ndarray, min_area: float) -> Pieces:
    area = shapely.area(geoms) if len(geoms) else np.zeros(0)
    keep = np.flatnonzero(area > min_area)
    keep = keep[np.argsort(-area[keep], kind="stable")]
    geoms = geoms[keep]
    return Pieces(geoms, area[keep], main_point(geoms), left[keep], right[keep])


def overlaps(grids: np.ndarray, min_area: float) -> Pieces:
    """Pairwise intersections of grids larger than ``min_area``."""
    left, right = shapely.STRtree(grids).query(grids, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    return _pieces(areal(shapely.intersection(grids[left], grids[right])), left, right, min_area)


def gaps(cover, jurisdiction, min_area: float) -> Pieces:
    """Uncovered pieces: the jurisdiction minus ``cover`` (the union of the grids) or, without a jurisdiction,
    the holes ``cover`` encloses."""
    if jurisdiction is None:
        jurisdiction = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(cover))))
    missing = shapely.get_parts(areal(np.array([shapely.difference(jurisdiction, cover)], dtype=object))[0])
    missing = np.asarray(missing, dtype=object)
    none = np.full(len(missing), -1)
    return _pieces(missing, none, none, min_area)


def outside(grids: np.ndarray, containers: np.ndarray, tol: Tolerances) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per grid: its part outside its container (missing container = not checked), that part's area, and whether
    the area is beyond both tolerances."""
    checked = ~shapely.is_missing(containers)
    rest = np.full(len(grids), None, dtype=object)
    rest[checked] = areal(shapely.difference(grids[checked], containers[checked]))
    area = np.zeros(len(grids))
    area[checked] = shapely.area(rest[checked])
    beyond = (area > tol.outside_min_m2) & (area > tol.outside_min_share * shapely.area(grids))
    return rest, area, beyond
