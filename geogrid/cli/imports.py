"""``geogrid import admin|grids FILE …``: load planners' files into the store, one transaction per file."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import DBAPIError

from geogrid.cli.common import fail, print_json
from geogrid.store.db import StoreError, session_scope
from geogrid.store.imports import ImportSummary, import_admin, import_grids

CRS_HELP = (
    "source CRS overriding the file's: EPSG:n, wgs84, cgcs2000, gcj02 or bd09 (CRS-less files are WGS84) / 源坐标系"
)
ENCODING_HELP = "attribute encoding, e.g. gbk for a Shapefile without .cpg / 属性编码，如 gbk"


def print_summary(summary: ImportSummary) -> None:
    """A few readable lines: what was written, which fields were used, what was merged, repaired or unmatched."""
    what = f"{summary.target} area(s)" if summary.kind == "admin" else f"grid(s) into {summary.target} (draft)"
    typer.echo(f"imported {summary.written} {what} from {summary.path} ({summary.features} feature(s) read)")
    if summary.kind == "admin":
        typer.echo(f"  {summary.inserted} new, {summary.updated} updated")
    used = ", ".join(f"{k}={v}" for k, v in summary.fields.items() if v)
    typer.echo(f"  fields: {used}")
    for item in summary.merged:
        typer.echo(f"  merged: code {item['code']} from {item['features']} features")
    for item in summary.repaired:
        typer.echo(f"  repaired: feature {item['feature']} (code {item['code']}): {item['reason']}")
    for warning in summary.warnings:
        typer.echo(f"  warning: {warning}")
    if summary.kind == "grids":
        typer.echo(f"next: geogrid plan validate {summary.target.split('/', 1)[1]}")


def _run(importer, as_json: bool, **kwargs) -> None:
    try:
        with session_scope() as session:
            summary = importer(session, **kwargs)
    except (ValueError, OSError, StoreError) as exc:
        fail(f"{exc}; nothing was imported")
    except DBAPIError as exc:
        fail(f"store error: {str(exc.orig).strip()}; nothing was imported")
    if as_json:
        print_json(summary.to_dict())
    else:
        print_summary(summary)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        no_args_is_help=True,
        help="Import admin areas and grid layers from vector files. 从矢量文件导入行政区划与网格图层。",
    )
    app.add_typer(group, name="import")
    _register_admin(group)
    _register_grids(group)
    _register_roads(group)


def _register_admin(group: typer.Typer) -> None:
    @group.command("admin")
    def admin(
        file: Path = typer.Argument(
            ..., help="Shapefile, GeoJSON, GeoPackage (FILE:LAYER), GeoParquet, FlatGeobuf / 矢量文件（文件:图层）"
        ),
        level: str = typer.Option(..., "--level", help="district, street or community / 区县、街道或社区"),
        code_field: str | None = typer.Option(None, "--code-field", help="default: code/adcode/编码 … / 编码字段"),
        name_field: str | None = typer.Option(None, "--name-field", help="default: name/名称 … / 名称字段"),
        parent_field: str | None = typer.Option(
            None, "--parent-field", help="parent code; default: spatial match / 上级编码字段，缺省按空间匹配"
        ),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON / 以 JSON 输出摘要"),
    ) -> None:
        """Import districts, streets or communities (insert new codes, update existing ones).
        导入区县、街道或社区（新编码插入，已有编码更新）。
        """
        _run(
            import_admin,
            as_json,
            path=file,
            level=level,
            code_field=code_field,
            name_field=name_field,
            parent_field=parent_field,
            crs=crs,
            encoding=encoding,
        )


def _register_grids(group: typer.Typer) -> None:
    @group.command("grids")
    def grids(
        file: Path = typer.Argument(
            ..., help="Shapefile, GeoJSON, GeoPackage (FILE:LAYER), GeoParquet, FlatGeobuf / 矢量文件（文件:图层）"
        ),
        layer: str = typer.Option(..., "--layer", help="grid layer, e.g. unit, responsibility / 网格图层"),
        plan: str = typer.Option(..., "--plan", help="name of the new draft plan / 新草案方案名称"),
        code_field: str | None = typer.Option(
            None, "--code-field", help="default: code/编码/网格编码 … / 网格编码字段"
        ),
        name_field: str | None = typer.Option(None, "--name-field", help="default: name/名称 … / 名称字段"),
        tier_field: str | None = typer.Option(None, "--tier-field", help="A/B/C; default: tier/等级 … / 网格等级字段"),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON / 以 JSON 输出摘要"),
    ) -> None:
        """Import a grid layer as a new draft plan; then `geogrid plan validate` and `geogrid plan publish`.
        将网格图层导入为新的草案方案，之后校验并发布。
        """
        _run(
            import_grids,
            as_json,
            path=file,
            layer=layer,
            plan=plan,
            code_field=code_field,
            name_field=name_field,
            tier_field=tier_field,
            crs=crs,
            encoding=encoding,
        )


def _register_roads(group: typer.Typer) -> None:
    @group.command("roads")
    def roads(
        file: Path = typer.Argument(..., help="OSM .pbf/.osm, Shapefile, GeoJSON, GeoPackage, GeoParquet / 道路文件"),
        plan: str = typer.Option(..., "--plan", help="the plan these roads belong to / 道路所属方案"),
        class_field: str | None = typer.Option(
            None, "--class-field", help="road class field (else OSM highway) / 道路等级字段"
        ),
        raw: bool = typer.Option(False, "--raw", help="keep the lines as they are / 不做中心线清理"),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON / 以 JSON 输出摘要"),
    ) -> None:
        """Store a road network for a plan (a layer of the web map; a draft's blocks are cut along it).
        导入方案的道路网（地图图层；草案地块沿道路中心线切分）。
        """
        from geogrid.planner.errors import PlannerError
        from geogrid.planner.roads import import_roads

        try:
            with session_scope() as session:
                done = import_roads(session, file, plan, crs=crs, encoding=encoding, class_field=class_field, raw=raw)
        except (ValueError, OSError, StoreError, PlannerError) as exc:
            fail(f"{exc}; nothing was imported")
        if as_json:
            print_json(done.to_dict())
            return
        cleaned = "centrelines" if done.cleaned else "lines as given"
        typer.echo(f"imported {done.edges} road edge(s) ({cleaned}) from {done.path} for plan {done.plan}")
        if done.blocks is not None:
            typer.echo(f"  draft {done.plan}: {done.blocks} block(s) for editing")
