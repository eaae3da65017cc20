"""``geogrid partition-many``: one partition per district on dask.distributed, ``DIR/<code>.gpkg`` each, a merged
layer ``DIR/merged.gpkg``; rerun to resume (finished districts are skipped).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from geogrid.cli.common import fail, print_json
from geogrid.cli.partition import (
    SOURCE,
    Balance,
    ClassField,
    Communities,
    Config,
    Encoding,
    Preset,
    Roads,
    _opt,
)

Districts = Annotated[
    str, typer.Option("--districts", help="District polygons, one per feature: " + SOURCE + " 区县边界。")
]
OutDir = Annotated[Path, typer.Option("--out", help="Output folder: <code>.gpkg per district, merged.gpkg. 输出目录。")]
CodeField = _opt("--code-field", "District code field (default: code, adcode). 区县编码字段。")
RoadsCrs = _opt("--roads-crs", "CRS of the roads when undeclared or wrong (EPSG:n, wgs84…). 道路坐标系。")
CommunitiesCrs = _opt("--communities-crs", "CRS of the communities when undeclared or wrong. 社区坐标系。")
DistrictsCrs = _opt("--districts-crs", "CRS of the districts when undeclared or wrong (gcj02…). 区县坐标系。")
Scheduler = _opt("--scheduler", "tcp://HOST:PORT of a dask scheduler (default: a local cluster). 调度器地址。")
Workers = _opt("--workers", "Local cluster worker processes (default: CPU cores). 本地进程数。", int | None)
Margin = _opt("--margin", "Roads within this many metres of a district go to its task. 道路缓冲距离（米）。", float)
Only = _opt("--only", "Comma-separated district codes to run (default: all). 仅运行这些区县。")
Quiet = _opt("--quiet", "No progress bar. 不显示进度条。", bool)


def _districts(source: str, crs: str | None, code_field: str | None, only: str | None):
    """The district polygons in EPSG:4490 and their codes (an unusable file or field exits with the reason)."""
    from geogrid.io import InputError, guess_field, read_vector
    from geogrid.partition.many import district_codes

    try:
        gdf = read_vector(source, crs=crs, lonlat_check=True)
    except InputError as exc:
        fail(str(exc))
    field = code_field or guess_field(gdf, ("code", "adcode", "CODE", "ADCODE")) or "code"
    try:
        codes = district_codes(gdf, field)
    except ValueError as exc:
        fail(f"{source}: {exc}")
    if only:
        wanted = [c.strip() for c in only.split(",") if c.strip()]
        missing = sorted(set(wanted) - set(codes))
        if missing:
            fail(f"{source}: no district with {field} {missing}")
        keep = [i for i, c in enumerate(codes) if c in wanted]
        gdf, codes = gdf.iloc[keep].reset_index(drop=True), [codes[i] for i in keep]
    return gdf, codes


def _client(scheduler: str | None, workers: int | None):
    """A dask client: to the given scheduler, or to a LocalCluster of one single-threaded process per core."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            fail(f"cannot reach the dask scheduler at {scheduler}: {exc}")
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    return Client(cluster)


def register(app: typer.Typer) -> None:
    @app.command("partition-many")
    def partition_many(
        districts: Districts,
        roads: Roads,
        out: OutDir,
        communities: Communities = None,
        code_field: CodeField = None,
        districts_crs: DistrictsCrs = None,
        roads_crs: RoadsCrs = None,
        communities_crs: CommunitiesCrs = None,
        class_field: ClassField = None,
        encoding: Encoding = None,
        config: Config = None,
        preset: Preset = None,
        balance: Balance = None,
        margin: Margin = 1000.0,
        scheduler: Scheduler = None,
        workers: Workers = None,
        only: Only = None,
        quiet: Quiet = False,
    ) -> None:
        """Partition every district of FILE in parallel on dask (resumable); one GeoPackage per district + merged.
        在 dask 上并行划分多个区县的网格（可续跑），每区一个 GeoPackage 并合并。
        """
        from tqdm.auto import tqdm

        from geogrid.cli.partition import _config
        from geogrid.config import ConfigError
        from geogrid.io import InputError, read_vector
        from geogrid.partition.many import make_tasks, run_many
        from geogrid.roads import read_roads

        if margin < 0:
            fail("--margin must be >= 0")
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK):
            fail(f"--out {out}: folder is not writable")
        gdf, codes = _districts(districts, districts_crs, code_field, only)
        try:
            cfg = _config(config, preset, balance, False, None, districts_crs is not None)
            road_lines = read_roads(roads, crs=roads_crs, encoding=encoding, class_field=class_field)
            comm = None
            if communities:
                comm = read_vector(communities, crs=communities_crs, encoding=encoding, lonlat_check=True)
        except (InputError, ConfigError) as exc:
            fail(str(exc))
        tasks = make_tasks(gdf, codes, road_lines, cfg, out, margin, comm)
        client = _client(scheduler, workers)
        bar = tqdm(total=len(tasks), desc="districts", unit="district", disable=quiet)
        bar.update(sum(1 for t in tasks if (out / f"{t.code}.gpkg").is_file()))

        def done(row: dict) -> None:
            bar.update(1)
            bar.write(f"{row['code']}: {row['grids']} grids in {row['seconds']:.1f} s")

        def failed(code: str, reason: str) -> None:
            bar.update(1)
            bar.write(f"{code}: failed: {reason}")

        try:
            report = run_many(tasks, client, on_done=done, on_failed=failed)
        finally:
            bar.close()
            cluster = client.cluster  # a LocalCluster we started (None for a remote scheduler)
            client.close()
            if cluster is not None:
                cluster.close()
        print_json(report.as_dict())
        if report.failed:
            raise typer.Exit(1)
