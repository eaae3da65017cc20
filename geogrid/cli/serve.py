"""``geogrid serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8000, "--port"),
        workers: int = typer.Option(1, "--workers", help="uvicorn worker processes"),
    ) -> None:
        """Serve the API (and the web map) on HOST:PORT."""
        import uvicorn

        uvicorn.run("api.main:app", host=host, port=port, workers=workers, log_level="info")
