"""The application factory: it only wires settings, error handlers and the routers under ``api.routers``.

A router module may expose ``router`` (included), ``setup(app)`` (called once, at creation) and ``lifespan(app)``
(an async context manager entered at start-up and left at shutdown, in module order, for background threads).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import api.routers
from api import errors, openapi_errors
from api.edge import Edge
from api.settings import ApiSettings


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings.from_env()
    lifespans = []

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for enter in lifespans:
                await stack.enter_async_context(enter(application))
            yield

    app = FastAPI(title=settings.title, version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"]
    )
    errors.install(app)
    for info in sorted(pkgutil.iter_modules(api.routers.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"api.routers.{info.name}")
        if hasattr(module, "router"):
            app.include_router(module.router)
        if hasattr(module, "setup"):
            module.setup(app)
        if hasattr(module, "lifespan"):
            lifespans.append(module.lifespan)
    openapi_errors.install(app)
    if os.environ.get("GEOGRID_EDGE", "on").strip().lower() not in ("off", "0", "false", "no"):
        app.add_middleware(Edge)  # outermost: refusals cost nothing, and the tile front's renders are gated too
    return app


app = create_app()
