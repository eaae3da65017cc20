"""``geogrid sites import FILE``: the site layer (markets, hospitals, parks …) whose duty rules override the grid's."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError

from geogrid.cli.common import fail
from geogrid.store.db import session_scope


def register(app: typer.Typer) -> None:
    sites = typer.Typer(
        no_args_is_help=True,
        help="Duty sites: markets, hospitals, parks, squares … 责任点位：农贸市场、医院、公园、广场等。",
    )
    app.add_typer(sites, name="sites")

    @sites.command("import")
    def import_(
        path: Path = typer.Argument(..., help="any vector file: Shapefile, GeoJSON, GeoPackage, GeoParquet …"),
        crs: str | None = typer.Option(None, help="EPSG:n | wgs84 | cgcs2000 | gcj02 | bd09 (overrides the file)"),
        encoding: str | None = typer.Option(None, help="attribute encoding, e.g. gbk"),
        code_field: str | None = typer.Option(None, help="default: code / 编码 / id"),
        name_field: str | None = typer.Option(None, help="default: name / 名称"),
        kind_field: str | None = typer.Option(None, help="default: kind / type / 类型 (market, hospital, park …)"),
        radius_m: float = typer.Option(30.0, help="buffer for point and line sites, metres"),
    ) -> None:
        """Upsert sites by code (one transaction: a bad feature leaves the store untouched). 按编码导入点位。"""
        from geogrid.io import InputError
        from geogrid.supervision.sites import import_sites_file

        try:
            with session_scope() as session:
                count = import_sites_file(session, path, crs=crs, encoding=encoding,
                                          fields=(code_field, name_field, kind_field), radius_m=radius_m)  # fmt: skip
        except InputError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(f"cannot reach the store: {str(exc.orig).strip().splitlines()[0]}")
        typer.echo(f"{path}: {count} sites imported")
