"""``geogrid serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on / 监听地址"),
        port: int = typer.Option(8000, "--port", help="port to listen on / 监听端口"),
        workers: int = typer.Option(1, "--workers", help="uvicorn worker processes / 工作进程数"),
    ) -> None:
        """Serve the API (and the web map) on HOST:PORT. 在 HOST:PORT 提供 API 与网页地图。"""
        import uvicorn

        # a worker building a city-sized locate index can hold the GIL for seconds at a time: give the supervisor's
        # health check room, or it kills and restarts the worker mid-build, forever
        uvicorn.run(
            "api.main:app",
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            server_header=False,
            timeout_worker_healthcheck=120,
        )
