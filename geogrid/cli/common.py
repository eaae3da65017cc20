"""Helpers shared by the command modules: error exits and output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` on stderr and exit non-zero; used for every user-facing error."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def check_writable(path: Path | None, option: str) -> None:
    """Fail before any work when an output file cannot be written: its folder is missing or read-only."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        fail(f"{option} {path}: folder {folder} does not exist; create it first (mkdir -p {folder})")
    if not os.access(folder, os.W_OK):
        fail(f"{option} {path}: folder {folder} is not writable")
    if path.is_dir():
        fail(f"{option} {path}: is a folder; give a file name")
