"""Many districts at once: one ``partition()`` per district on dask.distributed, one GeoPackage each, then a merge.

A province in one process needs tens of GB (partitioning is linear in edges); a district needs well under 1 GB, and
districts are independent, so they run as separate tasks on a dask cluster (a LocalCluster of this machine's cores
by default, or a real cluster's scheduler). Each task calls the same engine entry point as ``geogrid partition``
(``partition()`` then ``write_gpkg()``) on the roads near its district, so its output equals a single run.

Resumable: ``DIR/<code>.gpkg`` exists only once complete (written as ``<code>.partial.gpkg``, then renamed), so a
rerun skips the districts already done and redoes any cut short.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geogrid.config import PartitionConfig

MERGED = "merged.gpkg"
PARTIAL = ".partial.gpkg"


@dataclass(frozen=True)
class DistrictTask:
    """What one worker needs: the district, the roads and communities near it, the configuration, where to write."""

    code: str
    boundary: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    config: PartitionConfig
    out_dir: str
    communities: gpd.GeoDataFrame | None = None


@dataclass
class ManyReport:
    done: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    merged: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """The JSON summary printed at the end of a run."""
        return {
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "merged": self.merged,
            "seconds": round(self.seconds, 3),
        }


def output_path(out_dir: str | Path, code: str) -> Path:
    """``DIR/<code>.gpkg``: the one name that means "done"."""
    return Path(out_dir) / f"{code}.gpkg"


def is_done(out_dir: str | Path, code: str) -> bool:
    """Done means the final file exists; a partial file (a run cut short) never counts."""
    return output_path(out_dir, code).is_file()


def district_codes(districts: gpd.GeoDataFrame, code_field: str) -> list[str]:
    """Codes as text, checked: present, non-empty, unique, usable as a file name."""
    if code_field not in districts.columns:
        raise ValueError(f"no field {code_field!r} in the districts (fields: {', '.join(map(str, districts.columns))})")
    codes = [str(c).strip() for c in districts[code_field]]
    bad = [c for c in codes if not c or c in (".", "..") or any(ch in c for ch in "/\\:")]
    if bad:
        raise ValueError(f"district codes must be non-empty file names, got {bad[:5]}")
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ValueError(f"district codes must be unique, repeated: {dupes[:5]}")
    return codes


def roads_near(roads: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, margin_m: float) -> gpd.GeoDataFrame:
    """Features (roads, communities) that come within ``margin_m`` of the district (whole features, not clipped)."""
    from geogrid.crs import metric_crs_for

    metric = metric_crs_for(boundary)
    zone = shapely.buffer(shapely.union_all(boundary.to_crs(metric).geometry.to_numpy()), margin_m)
    zone = gpd.GeoSeries([zone], crs=metric).to_crs(roads.crs).iloc[0]
    hits = roads.sindex.query(zone, predicate="intersects")
    return roads.iloc[sorted(hits)]


def run_district(task: DistrictTask) -> dict:
    """Partition one district and write ``<code>.gpkg`` atomically (runs on a dask worker)."""
    from geogrid.partition import partition
    from geogrid.partition.output import write_gpkg

    t0, cpu0 = time.perf_counter(), time.process_time()
    result = partition(task.roads, task.boundary, task.communities, config=task.config, progress=False)
    final = output_path(task.out_dir, task.code)
    partial = final.with_name(f"{task.code}{PARTIAL}")
    write_gpkg(result, partial)
    os.replace(partial, final)
    return {
        "code": task.code,
        "grids": int(len(result.grids)),
        "seconds": round(time.perf_counter() - t0, 3),
        "cpu_seconds": round(time.process_time() - cpu0, 3),
    }


def make_tasks(
    districts: gpd.GeoDataFrame,
    codes: list[str],
    roads: gpd.GeoDataFrame,
    config: PartitionConfig,
    out_dir: str | Path,
    margin_m: float,
    communities: gpd.GeoDataFrame | None = None,
) -> list[DistrictTask]:
    """One task per district, carrying only the inputs near it (a worker never holds the whole province)."""
    tasks = []
    for i, code in enumerate(codes):
        boundary = districts.iloc[[i]].reset_index(drop=True)
        near = roads_near(roads, boundary, margin_m).reset_index(drop=True)
        comm = None
        if communities is not None:
            comm = roads_near(communities, boundary, 0.0).reset_index(drop=True)
        tasks.append(
            DistrictTask(code, boundary, near, config, str(out_dir), comm if comm is None or len(comm) else None)
        )
    return tasks


def merge_outputs(out_dir: str | Path, codes: Iterable[str]) -> Path | None:
    """One ``grids`` layer over every finished district, with a ``district`` column (written atomically)."""
    frames = []
    for code in codes:
        path = output_path(out_dir, code)
        if path.is_file():
            grids = gpd.read_file(path, layer="grids")
            grids.insert(0, "district", code)
            frames.append(grids)
    if not frames:
        return None
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    final = Path(out_dir) / MERGED
    partial = final.with_name(f"merged{PARTIAL}")
    if partial.exists():
        partial.unlink()
    merged.to_file(partial, layer="grids", driver="GPKG")
    os.replace(partial, final)
    return final


def run_many(
    tasks: list[DistrictTask],
    client,
    *,
    on_done: Callable[[dict], None] | None = None,
    on_failed: Callable[[str, str], None] | None = None,
) -> ManyReport:
    """Submit the districts not yet done to ``client`` (a dask.distributed Client) and collect them as they finish."""
    from distributed import as_completed

    report = ManyReport()
    t0 = time.perf_counter()
    todo = []
    for task in tasks:
        if is_done(task.out_dir, task.code):
            report.skipped.append(task.code)
        else:
            todo.append(task)
    todo.sort(key=lambda t: len(t.roads), reverse=True)  # largest first: the last task to start is a small one
    futures = {
        client.submit(run_district, t, key=f"partition-{t.code}-{time.time_ns()}", priority=len(t.roads), pure=False): t
        for t in todo
    }
    for future in as_completed(futures):
        code = futures[future].code
        try:
            row = future.result()
        except Exception as exc:  # one bad district must not lose the others; it is reported and can be rerun
            report.failed[code] = f"{type(exc).__name__}: {exc}"
            if on_failed:
                on_failed(code, report.failed[code])
            continue
        report.done.append(row)
        if on_done:
            on_done(row)
    codes = [t.code for t in tasks]
    merged = merge_outputs(tasks[0].out_dir, codes) if tasks else None
    report.merged = str(merged) if merged else None
    report.seconds = time.perf_counter() - t0
    return report
