"""``geogrid import admin|grids FILE …``: load planners' files into the store, one transaction per file."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import DBAPIError

from geogrid.cli.common import fail, print_json
from geogrid.store.db import StoreError, session_scope
from geogrid.store.imports import ImportSummary, import_admin, import_grids

CRS_HELP = "source CRS overriding the file's: EPSG:n, wgs84, cgcs2000, gcj02 or bd09 (CRS-less files are WGS84)"
ENCODING_HELP = "attribute encoding, e.g. gbk for a Shapefile without .cpg"


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
    group = typer.Typer(no_args_is_help=True, help="Import admin areas and grid layers from vector files.")
    app.add_typer(group, name="import")

    @group.command("admin")
    def admin(
        file: Path = typer.Argument(..., help="Shapefile, GeoJSON, GeoPackage, GeoParquet or FlatGeobuf"),
        level: str = typer.Option(..., "--level", help="district, street or community"),
        code_field: str | None = typer.Option(None, "--code-field", help="default: code/adcode/编码 …"),
        name_field: str | None = typer.Option(None, "--name-field", help="default: name/名称 …"),
        parent_field: str | None = typer.Option(None, "--parent-field", help="parent code; default: spatial match"),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Import districts, streets or communities (insert new codes, update existing ones)."""
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

    @group.command("grids")
    def grids(
        file: Path = typer.Argument(..., help="Shapefile, GeoJSON, GeoPackage, GeoParquet or FlatGeobuf"),
        layer: str = typer.Option(..., "--layer", help="grid layer, e.g. unit, responsibility"),
        plan: str = typer.Option(..., "--plan", help="name of the new draft plan"),
        code_field: str | None = typer.Option(None, "--code-field", help="default: code/编码/网格编码 …"),
        name_field: str | None = typer.Option(None, "--name-field", help="default: name/名称 …"),
        tier_field: str | None = typer.Option(None, "--tier-field", help="A/B/C; default: tier/等级 …"),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Import a grid layer as a new draft plan; then `geogrid plan validate` and `geogrid plan publish`."""
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

    @group.command("roads")
    def roads(
        file: Path = typer.Argument(..., help="OSM .pbf/.osm, Shapefile, GeoJSON, GeoPackage, GeoParquet"),
        plan: str = typer.Option(..., "--plan", help="the plan these roads belong to (an imported plan, say)"),
        class_field: str | None = typer.Option(None, "--class-field", help="road class field (else OSM highway)"),
        raw: bool = typer.Option(False, "--raw", help="keep the lines as they are (no centreline cleaning)"),
        crs: str | None = typer.Option(None, "--crs", help=CRS_HELP),
        encoding: str | None = typer.Option(None, "--encoding", help=ENCODING_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Store a road network for a plan (a layer of the web map; a draft's blocks are cut along it)."""
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
