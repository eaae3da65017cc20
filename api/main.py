"""The application factory: it only wires settings, error handlers and the routers under ``api.routers``."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import api.routers
from api import errors
from api.settings import ApiSettings


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings.from_env()
    app = FastAPI(title=settings.title, version="0.1.0")
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
    return app


app = create_app()
