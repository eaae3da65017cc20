"""The ``geogrid`` command line: one module per command group, each exposing ``register(app)``."""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Grid-based urban management. 网格化管理：划分、入库、定位与对外服务。",
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    app()
