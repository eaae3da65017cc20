"""The planner's web map at ``/map/``: a static page plus MapLibre GL from ``web/node_modules`` (npm, not vendored).

``scripts/setup_web.sh`` installs the JavaScript dependencies; until it has run, ``/map/`` answers 503 saying so.
``GEOGRID_WEB_DIR`` points elsewhere when the service runs from an installed package.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.errors import NotFound, Unavailable

router = APIRouter(include_in_schema=False)

WEB_DIR = Path(os.environ.get("GEOGRID_WEB_DIR") or Path(__file__).resolve().parents[2] / "web")
MAPLIBRE_DIST = WEB_DIR / "node_modules" / "maplibre-gl" / "dist"
PAGES = {"app.css": "text/css"} | {
    f"{module}.js": "text/javascript"
    for module in ("app", "core", "labels", "workbench", "compare", "publish", "supervision")
}
mimetypes.add_type("text/javascript", ".mjs")  # module scripts must not be served as octet-stream


def setup(app: FastAPI) -> None:
    app.mount("/map/vendor/maplibre-gl", StaticFiles(directory=MAPLIBRE_DIST, check_dir=False), name="maplibre")


@router.get("/map")
def map_redirect() -> RedirectResponse:
    return RedirectResponse("map/", status_code=307)


@router.get("/map/")
def map_page() -> FileResponse:
    if not (MAPLIBRE_DIST / "maplibre-gl.mjs").exists():
        raise Unavailable(
            "the web map's JavaScript dependencies are not installed; run scripts/setup_web.sh",
            [{"field": "web/node_modules", "reason": "missing"}],
        )
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/map/{name}")
def map_asset(name: str) -> FileResponse:
    if name not in PAGES:
        raise NotFound(f"no map asset {name!r}", [{"field": "name", "reason": "not found"}])
    return FileResponse(WEB_DIR / name, media_type=PAGES[name], headers={"Cache-Control": "no-cache"})
