"""``partition()``: road network + boundary (+ communities, tier zones, barriers) → tiered management grids.

The engine is a pipeline of named stages, each a function in its own module with typed input and output:

    prepare_inputs → build_blocks → assign_tiers → group_blocks → split_blocks → aggregate → merge_grids
    → polish → grids_from_blocks → build_report

Everything runs in the boundary's local metric CRS; results come back in EPSG:4490. Bad input raises
``PartitionError`` before any work is done; a plan that would break a guarantee raises it instead of being returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from geogrid import STORE_SRID
from geogrid.config import PartitionConfig
from geogrid.geometry import first_segment, near
from geogrid.partition.aggregate import aggregate
from geogrid.partition.blocks import ORIGIN_NAMES, Coverage, Linework, build_blocks
from geogrid.partition.grids import Grids, grids_from_blocks
from geogrid.partition.groups import group_blocks
from geogrid.partition.inputs import prepare_inputs
from geogrid.partition.merge import merge_grids
from geogrid.partition.polish import polish
from geogrid.partition.report import GridMetrics, build_report
from geogrid.partition.sizes import Sizer
from geogrid.partition.split import split_blocks
from geogrid.partition.tiering import assign_tiers


@dataclass
class PartitionResult:
    grids: gpd.GeoDataFrame
    """EPSG:4490; code, tier, community_code, area_m2, diameter_m, road_share, polsby_popper, reock, n_blocks."""
    blocks: gpd.GeoDataFrame
    """EPSG:4490; block_id, grid_code, community_code, tier, area_m2, origin (face / path split / straight cut)."""
    report: dict
    centerlines: gpd.GeoDataFrame = field(default=None)
    """Road centrelines used as borders (EPSG:4490): block edges on roads or between carriageways."""
    straight_cuts: gpd.GeoDataFrame = field(default=None)
    """Grid borders that follow no road, community border, barrier or path (EPSG:4490), with ``length_m``."""


class _Stages:
    """Runs stages in order: times each one and shows a progress bar on request."""

    def __init__(self, total: int, progress: bool):
        from tqdm.auto import tqdm

        self.timings: dict[str, float] = {}
        self.start = time.perf_counter()
        self.bar = tqdm(total=total, desc="partition", disable=not progress, unit="stage")

    def run(self, name: str, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        self.timings[name] = round(time.perf_counter() - t0, 3)
        self.bar.update(1)
        self.bar.set_postfix_str(f"{name} done")
        return out

    def close(self) -> dict[str, float]:
        self.bar.close()
        return {**self.timings, "total": round(time.perf_counter() - self.start, 3)}


def partition(
    roads: gpd.GeoDataFrame,
    boundary,
    communities: gpd.GeoDataFrame | None = None,
    tier_zones: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    config: PartitionConfig | None = None,
    progress: bool = False,
    *,
    units: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | None = None,
    weights: gpd.GeoDataFrame | None = None,
) -> PartitionResult:
    """Partition ``boundary`` into grids bounded by road centrelines; see the module docstring.

    ``units`` (compounds, parcels, campuses) are never cut by a grid border; ``exclude`` (mountain, water) does not
    count toward size targets; ``weights`` (points with a ``weight`` column, see ``geogrid.workload``) is the
    workload grids are balanced on when the config says ``balance = "weight"`` or ``"both"``.
    """
    cfg = (config or PartitionConfig()).validate()
    st = _Stages(10, progress)
    layers = {"units": units, "exclude": exclude, "weights": weights}
    inp = st.run("inputs", lambda: prepare_inputs(roads, boundary, communities, tier_zones, barriers, cfg, **layers))
    blocks, cov, lw = st.run("blocks", build_blocks, inp)
    blocks = st.run("tiers", assign_tiers, blocks, cov, lw, inp)
    sizer = Sizer(inp)
    blocks, groups = st.run("groups", group_blocks, blocks, cov, sizer(blocks.geoms, blocks.tier), inp)
    blocks, cov = st.run("split", split_blocks, blocks, groups, sizer, inp)
    plan = st.run("aggregate", aggregate, blocks, cov, groups, sizer, inp)
    plan = st.run("merge", merge_grids, plan, cov, inp, sizer)
    plan = st.run("polish", polish, plan, cov, inp, sizer)
    grids = st.run("grids", grids_from_blocks, plan, inp)
    report, metrics, cuts = st.run("report", build_report, grids, cov, lw, inp, sizer)
    report["timings_s"] = st.close()
    return _result(grids, metrics, cov, lw, report, inp.metric, cuts)


def _result(grids: Grids, m: GridMetrics, cov: Coverage, lw: Linework, report: dict, metric, cuts) -> PartitionResult:
    """The output frames in EPSG:4490: grids sorted by code, the blocks, the centrelines used as borders, the cuts."""
    frame = gpd.GeoDataFrame(
        {
            "code": grids.code,
            "tier": grids.tier,
            "community_code": grids.community_code,
            "area_m2": np.round(m.area_m2, 1),
            "diameter_m": np.round(m.diameter_m, 1),
            "road_share": np.round(m.road_share, 4),
            "polsby_popper": np.round(m.polsby_popper, 4),
            "reock": np.round(m.reock, 4),
            "n_blocks": m.n_blocks,
            "weight": np.round(m.weight, 3),
            "counted_area_m2": np.round(m.counted_area_m2, 1),
            "size": np.round(m.size, 4),
        },
        geometry=grids.geoms,
        crs=metric,
    )
    b, grid_of = grids.plan.blocks, grids.plan.grid_of
    blocks = gpd.GeoDataFrame(
        {
            "block_id": np.arange(len(b)),
            "grid_code": grids.code[grid_of],
            "community_code": grids.community_code[grid_of],
            "tier": b.tier,
            "area_m2": np.round(shapely.area(b.geoms), 1),
            "origin": ORIGIN_NAMES[b.origin],
        },
        geometry=b.geoms,
        crs=metric,
    )
    # centrelines: coverage edges lying on a road line or on a line drawn between carriageways
    p0, p1 = first_segment(cov.edges)
    on_road = near(shapely.points((p0 + p1) / 2.0), lw.centrelines, 0.01)
    lines = gpd.GeoDataFrame(geometry=cov.edges[on_road], crs=metric)
    cut_frame = gpd.GeoDataFrame({"length_m": np.round(shapely.length(cuts), 1)}, geometry=cuts, crs=metric)
    return PartitionResult(
        grids=frame.sort_values("code").reset_index(drop=True).to_crs(STORE_SRID),
        blocks=blocks.to_crs(STORE_SRID),
        report=report,
        centerlines=lines.to_crs(STORE_SRID),
        straight_cuts=cut_frame.to_crs(STORE_SRID),
    )
