"""``geogrid db init``: create the database, the PostGIS extension and the schema."""

from __future__ import annotations

import typer

from geogrid.cli.common import fail
from geogrid.store.db import StoreError, init_store


def register(app: typer.Typer) -> None:
    db = typer.Typer(no_args_is_help=True, help="The PostGIS store. PostGIS 数据库。")
    app.add_typer(db, name="db")

    @db.command("init")
    def init() -> None:
        """Create the database named by GEOGRID_DATABASE_URL if missing, add PostGIS, migrate to head.
        创建数据库（如不存在）、启用 PostGIS 并升级表结构。
        """
        try:
            info = init_store()
        except StoreError as exc:
            fail(str(exc))
        state = "created" if info["created"] else "exists"
        typer.echo(f"database {info['database']} ({state}); PostGIS {info['postgis']}; schema at head")
