"""``geogrid demo``: load the demo city, publish its plan, print keys, then serve the API and the web map."""

from __future__ import annotations

import typer

from geogrid.cli.common import fail
from geogrid.store.db import StoreError, init_store


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on / 监听地址"),
        port: int = typer.Option(8000, "--port", help="port to listen on / 监听端口"),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="serve the API after loading / 加载后启动服务"),
    ) -> None:
        """Load the synthetic sample district, generate and publish a grid plan, then serve.
        加载示范区、生成并发布网格方案，然后启动服务。
        """
        from sqlalchemy import select

        from geogrid.demo import load_demo
        from geogrid.store.accounts import create_account
        from geogrid.store.db import session_scope
        from geogrid.store.models import Account

        try:
            init_store()
        except StoreError as exc:
            fail(str(exc))
        summary = load_demo()
        report = summary.report
        typer.echo(
            f"demo: {summary.admin_areas} admin areas; plan {summary.plan} published with {summary.grids} grids; "
            f"{summary.people} grid staff assigned"
        )
        for key in ("coverage", "grids_per_tier", "polsby_popper_mean", "reock_mean"):
            if key in report:
                typer.echo(f"  {key}: {report[key]}")
        with session_scope() as session:
            for name, role in (
                ("demo-planner", "planner"),
                ("demo-operator", "operator"),
                ("demo-reporter", "reporter"),
            ):
                if session.scalar(select(Account).where(Account.name == name)) is None:
                    _, key = create_account(session, name, role)
                    typer.echo(f"  API key for {name} ({role}), shown once: {key}")
        if serve:
            import uvicorn

            typer.echo(f"serving on http://{host}:{port}  (web map: http://{host}:{port}/map)")
            uvicorn.run("api.main:app", host=host, port=port, log_level="info", server_header=False)
