"""The working set of one edit: the grids it touches and all their blocks, before and after.

Operations only reassign blocks, cut blocks into pieces and change grid attributes; ``finish`` rebuilds every grid
whose blocks changed as the union of its blocks, and returns the two sides of the transition the journal applies.
"""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.metrics.size import diameter_m
from geogrid.planner import blocks as blk
from geogrid.planner.geometry import polygons, to_metric
from geogrid.planner.journal import Rows, read
from geogrid.validation.report import jurisdiction

_GRID_IDS = text("SELECT id FROM grid WHERE plan_id = :p AND code = ANY(:codes)")
_BLOCK_IDS = text("SELECT id FROM plan_block WHERE plan_id = :p AND grid_code = ANY(:codes)")


class Work:
    """Grids ``codes`` of the plan and their blocks; edit ``grids``/``blocks`` (the after side) in place."""

    def __init__(self, session: Session, plan_id: int, srid: int, codes) -> None:
        self.session, self.plan_id, self.srid = session, plan_id, srid
        codes = sorted(set(codes))
        gids = session.execute(_GRID_IDS, {"p": plan_id, "codes": codes}).scalars().all()
        bids = session.execute(_BLOCK_IDS, {"p": plan_id, "codes": codes}).scalars().all()
        self.grids_before = read(session, plan_id, "grid", gids)
        self.blocks_before = read(session, plan_id, "block", bids)
        self.grids = copy.deepcopy(
            {k: {a: v for a, v in r.items() if a != "geom"} for k, r in self.grids_before.items()}
        )
        self.blocks = {k: dict(r) for k, r in self.blocks_before.items()}

    # --- lookups ----------------------------------------------------------------------------------------------
    def grid_id(self, code: str) -> int | None:
        return next((k for k, r in self.grids.items() if r["code"] == code), None)

    def blocks_of(self, code: str) -> list[int]:
        return [k for k, b in self.blocks.items() if b["grid_code"] == code]

    # --- changes ----------------------------------------------------------------------------------------------
    def move(self, block_ids, code: str) -> None:
        for k in block_ids:
            self.blocks[k]["grid_code"] = code

    def cut(self, block_id: int, pieces: list) -> list[int]:
        """Replace a block by its pieces (same grid, community and side of the jurisdiction); returns their ids."""
        parent = self.blocks.pop(block_id)
        geoms = np.asarray([part for piece in pieces for part in polygons(piece)], dtype=object)
        ids = blk.new_ids(self.session, "plan_block", len(geoms))
        area = shapely.area(to_metric(geoms, self.srid))
        cases = blk.case_counts(self.session, geoms)
        outside = self.outside_m2(geoms) if parent["outside_m2"] > 0 else np.zeros(len(geoms))
        for k, g, a, c, o in zip(ids, geoms, area, cases, outside, strict=True):
            self.blocks[k] = {**parent, "geom": g, "area_m2": float(a), "cases": int(c), "outside_m2": float(o)}
        return ids

    def jurisdiction(self):
        """The jurisdiction as a metric polygon (None when no admin area is loaded), read once per edit."""
        if not hasattr(self, "_jurisdiction"):
            self._jurisdiction = jurisdiction(self.session, self.plan_id, CRS.from_epsg(self.srid))[0]
        return self._jurisdiction

    def outside_m2(self, geoms) -> np.ndarray:
        return blk.outside_m2(np.asarray(geoms, dtype=object), self.jurisdiction(), self.srid)

    def add_block(self, geom, code: str, community_id: int | None) -> int:
        """A new block of grid ``code`` (land no grid covered before)."""
        k = blk.new_ids(self.session, "plan_block", 1)[0]
        area = float(shapely.area(to_metric(geom, self.srid)))
        cases = int(blk.case_counts(self.session, np.asarray([geom], dtype=object))[0])
        outside = float(self.outside_m2([geom])[0])
        self.blocks[k] = {"grid_code": code, "community_id": community_id, "outside_m2": outside, "area_m2": area}
        self.blocks[k] |= {"cases": cases, "geom": geom}
        return k

    def add_grid(self, attrs: dict) -> int:
        k = blk.new_ids(self.session, "grid", 1)[0]
        self.grids[k] = {"local_code": None, "name": None, "tier": None, "community_id": None} | attrs
        return k

    # --- the transition ---------------------------------------------------------------------------------------
    def _members(self, blocks: dict[int, dict], code: str) -> frozenset:
        return frozenset(k for k, b in blocks.items() if b["grid_code"] == code)

    def reshaped(self) -> dict[int, frozenset]:
        """Grids (after side) whose set of blocks changed, with their blocks."""
        out = {}
        for k, g in self.grids.items():
            now = self._members(self.blocks, g["code"])
            old = self._members(self.blocks_before, self.grids_before[k]["code"]) if k in self.grids_before else None
            if now != old:
                out[k] = now
        return out

    def finish(self) -> tuple[Rows, Rows, set[int], set[int]]:
        """(before, after, reshaped grid ids, deleted grid ids); grids left without blocks are deleted."""
        reshaped = self.reshaped()
        for k in [k for k, members in reshaped.items() if not members]:
            del self.grids[k]
            del reshaped[k]
        ids = list(reshaped)
        geoms = np.asarray(
            [shapely.union_all([self.blocks[b]["geom"] for b in reshaped[k]]) for k in ids], dtype=object
        )
        metric = to_metric(geoms, self.srid)
        diameters = diameter_m(gpd.GeoSeries(metric, crs=self.srid)) if len(ids) else []
        after = Rows()
        for k, g, a, d in zip(ids, geoms, shapely.area(metric), diameters, strict=True):
            after.grid[k] = {**self.grids[k], "geom": g, "area_m2": float(a), "diameter_m": float(d)}
        for k, g in self.grids.items():
            old = self.grids_before.get(k)
            if k not in after.grid and (old is None or any(old[a] != v for a, v in g.items())):
                after.grid[k] = {**g, "geom": None}
        before = Rows()
        for k in after.grid:
            if k in self.grids_before:
                keep_geom = after.grid[k]["geom"] is not None
                before.grid[k] = {**self.grids_before[k]} if keep_geom else {**self.grids_before[k], "geom": None}
        gone = {k for k in self.grids_before if k not in self.grids}
        for k in gone:
            before.grid[k] = self.grids_before[k]
        self._block_rows(before, after)
        return before, after, set(ids), gone

    def _block_rows(self, before: Rows, after: Rows) -> None:
        for k, b in self.blocks.items():
            old = self.blocks_before.get(k)
            if old is None:
                after.block[k] = b
            elif old["grid_code"] != b["grid_code"]:
                after.block[k] = {**b, "geom": None}
                before.block[k] = {**old, "geom": None}
        for k, old in self.blocks_before.items():
            if k not in self.blocks:
                before.block[k] = old
