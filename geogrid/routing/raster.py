"""A cell raster that answers most point lookups with two array reads instead of a point-in-polygon test.

Every cell that any polygon boundary passes through is marked "exact" (-2); all other cells lie wholly inside one
face of the partition, so one representative point per connected region decides the answer for the whole region
(a polygon index, or -1 for "covered by none"). Lookups in exact cells go to the STRtree.

Why it is exact: boundaries are segmentised to at most half a cell and every sample's cell is marked together
with its 8 neighbours, so any boundary point (within a quarter cell of a sample) has its cell marked. A point whose
cell is unmarked is therefore not on any boundary, and 4-connected unmarked cells are joined without crossing one.
Cell indices use the same ``floor((x - x0) / size)`` for samples and queries, so rounding is consistent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage

EXACT = -2
NONE = -1
MAX_CELLS = 4_000_000  # 16 MB of int32 per polygon set
MIN_CELLS = 1_000_000
CELLS_PER_POLYGON_SIDE = 48


@dataclass(frozen=True)
class CellRaster:
    x0: float
    y0: float
    size: float
    cells: np.ndarray  # (ny, nx) int32: polygon index, NONE, or EXACT

    @classmethod
    def build(cls, geoms: np.ndarray, resolve: Callable[[np.ndarray], np.ndarray]) -> CellRaster | None:
        """Rasterise ``geoms``; ``resolve(points)`` gives the polygon index of representative points."""
        if len(geoms) == 0:
            return None
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        if not np.isfinite([xmin, ymin, xmax, ymax]).all():
            return None  # only empty geometries: the tree answers (nothing)
        width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        budget = min(MAX_CELLS, max(MIN_CELLS, CELLS_PER_POLYGON_SIDE**2 * len(geoms)))
        size = float(np.sqrt(width * height / budget))
        x0, y0 = xmin - 2 * size, ymin - 2 * size  # a margin so border points never fall off the raster
        nx, ny = int(np.ceil(width / size)) + 4, int(np.ceil(height / size)) + 4
        marked = np.zeros((ny, nx), dtype=bool)
        coords = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geoms), size / 2))
        ix = np.floor((coords[:, 0] - x0) / size).astype(np.int64)
        iy = np.floor((coords[:, 1] - y0) / size).astype(np.int64)
        marked[np.clip(iy, 0, ny - 1), np.clip(ix, 0, nx - 1)] = True
        marked = ndimage.binary_dilation(marked, structure=np.ones((3, 3), dtype=bool))
        labels, count = ndimage.label(~marked)  # 4-connected regions free of boundaries
        cells = np.full((ny, nx), EXACT, dtype=np.int32)
        if count:
            flat = labels.ravel()
            order = np.argsort(flat, kind="stable")
            starts = np.searchsorted(flat[order], np.arange(1, count + 1))
            first = order[starts]  # one cell of every region
            cy, cx = np.divmod(first, nx)
            reps = shapely.points(x0 + (cx + 0.5) * size, y0 + (cy + 0.5) * size)
            answer = np.concatenate([[EXACT], resolve(reps).astype(np.int32)])
            cells = answer[labels].astype(np.int32)
        return cls(x0, y0, size, cells)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Polygon index per point, NONE (covered by none) or EXACT (needs a point-in-polygon test)."""
        ny, nx = self.cells.shape
        ix = np.floor((x - self.x0) / self.size)
        iy = np.floor((y - self.y0) / self.size)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(len(x), NONE, dtype=np.intp)
        out[inside] = self.cells[iy[inside].astype(np.intp), ix[inside].astype(np.intp)]
        return out

    def lookup_one(self, x: float, y: float) -> int:
        """``lookup`` for one point, with scalars."""
        ix = math.floor((x - self.x0) / self.size)
        iy = math.floor((y - self.y0) / self.size)
        ny, nx = self.cells.shape
        if 0 <= ix < nx and 0 <= iy < ny:
            return int(self.cells[iy, ix])
        return NONE
