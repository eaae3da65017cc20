"""``geogrid partition``: roads + boundary (+ communities, tier zones, barriers) → grids GeoPackage, report, map."""

from __future__ import annotations

from pathlib import Path

import typer

from geogrid.cli.common import check_writable, fail


def register(app: typer.Typer) -> None:
    @app.command("partition")
    def partition_cmd(
        roads: Path = typer.Option(
            ..., "--roads", help="Road network: .osm.pbf, .osm, GeoPackage, Shapefile, GeoJSON… 路网。"
        ),
        boundary: Path = typer.Option(..., "--boundary", help="Jurisdiction polygon(s). 辖区边界。"),
        out: Path = typer.Option(
            ..., "--out", help="Output GeoPackage (layers grids, blocks). 输出 GeoPackage（所在文件夹须已存在）。"
        ),
        communities: Path | None = typer.Option(
            None, "--communities", help="Community polygons (12-digit code). 社区边界（12 位编码）。"
        ),
        tier_zones: Path | None = typer.Option(
            None, "--tier-zones", help="Polygons with a 'tier' field (A/B/C). 分级区域（tier 字段）。"
        ),
        barriers: Path | None = typer.Option(
            None, "--barriers", help="Rivers, railways (lines or polygons). 河流、铁路等障碍。"
        ),
        config: Path | None = typer.Option(None, "--config", help="TOML or YAML configuration. 配置文件。"),
        crs: str | None = typer.Option(
            None, "--crs", help="CRS of the inputs when undeclared or wrong (gcj02…). 输入坐标系。"
        ),
        encoding: str | None = typer.Option(
            None, "--encoding", help="Text encoding of Shapefile attributes. 属性编码。"
        ),
        class_field: str | None = typer.Option(
            None, "--class-field", help="Road class field (else OSM highway). 道路等级字段。"
        ),
        report: Path | None = typer.Option(
            None, "--report", help="Write the plan metrics as JSON. 输出方案指标 JSON。"
        ),
        map_png: Path | None = typer.Option(
            None, "--map", help="Write a PNG map of the grids by tier. 输出分级网格 PNG 图。"
        ),
        plan: str | None = typer.Option(
            None, "--plan", help="Also save as a draft plan with this name. 同时保存为草案方案。"
        ),
        layer: str = typer.Option(
            "grid", "--layer", help="Grid layer of the store the plan belongs to. 方案所属网格图层。"
        ),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar. 不显示进度条。"),
    ) -> None:
        """Partition a jurisdiction into tiered management grids bounded by road centrelines.
        以道路中心线为界将辖区划分为分级管理网格。
        """
        from geogrid.config import ConfigError, PartitionConfig, load_config
        from geogrid.io import InputError, read_vector
        from geogrid.partition import PartitionError, partition
        from geogrid.partition.output import write_gpkg, write_map, write_report
        from geogrid.roads import read_roads

        for path, option in ((out, "--out"), (report, "--report"), (map_png, "--map")):
            check_writable(path, option)
        try:
            cfg = load_config(config) if config else PartitionConfig()
            road_gdf = read_roads(roads, crs=crs, encoding=encoding, class_field=class_field)
            bnd = read_vector(boundary, crs=crs, encoding=encoding)
            comm = read_vector(communities, crs=crs, encoding=encoding) if communities else None
            zones = read_vector(tier_zones, crs=crs, encoding=encoding) if tier_zones else None
            bars = read_vector(barriers, crs=crs, encoding=encoding) if barriers else None
        except (InputError, ConfigError) as exc:
            fail(str(exc))
        try:
            result = partition(road_gdf, bnd, comm, zones, bars, cfg, progress=not quiet)
        except PartitionError as exc:
            fail(f"cannot partition: {exc}")
        write_gpkg(result, out)
        if report:
            write_report(result, report)
        if map_png:
            write_map(result, map_png)
        if plan:
            from geogrid.store.db import session_scope
            from geogrid.store.plans import save_draft_plan

            try:
                with session_scope() as session:
                    saved = save_draft_plan(
                        session, result.grids, layer=layer, plan=plan, source=str(roads), report=result.report
                    )
                    typer.echo(f"saved draft plan {plan!r} (layer {layer!r}, id {getattr(saved, 'id', '?')})")
            except ValueError as exc:
                fail(str(exc))
        rep = result.report
        ib = rep["internal_border"]["within_15m_of_centerline"]
        typer.echo(
            f"{rep['grids']} grids from {rep['blocks']} blocks; coverage {rep['coverage']:.4%}; "
            f"PP mean {rep['polsby_popper_mean']:.2f}; Reock mean {rep['reock_mean']:.2f}; "
            f"internal border on centrelines {ib:.1%}; wrote {out}"
        )
