"""HTML pages for ``f=html`` (and browsers): the same documents as the JSON answers, rendered by Jinja2 templates.

Why: OGC API – Features asks for HTML beside JSON so a person can browse what a client reads. Pages link their JSON
twin and draw features with the MapLibre copy the web map already serves (no CDN: deployments are often offline).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import orjson
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAPLIBRE = "/map/vendor/maplibre-gl"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    # JSON for a <script> block: "</" is escaped so no value can close the script element.
    env.filters["script_json"] = lambda value: Markup(orjson.dumps(value).decode().replace("</", "<\\/"))
    return env


def crumbs(request: Request) -> list[dict]:
    """Breadcrumbs from the path: Home / collections / grids.x / items."""
    base = str(request.base_url).rstrip("/")
    out, href = [{"href": f"{base}/", "label": "Home"}], base
    for part in [p for p in request.url.path.split("/") if p]:
        href += f"/{part}"
        out.append({"href": href, "label": part})
    return out


def json_twin(request: Request) -> str:
    """This page's URL asking for JSON instead."""
    params = {k: v for k, v in request.query_params.items() if k != "f"}
    return f"{request.url.path}?{urlencode({**params, 'f': 'json'})}"


def render(request: Request, template: str, title: str, **context) -> HTMLResponse:
    page = (
        environment()
        .get_template(template)
        .render(title=title, crumbs=crumbs(request), json_href=json_twin(request), maplibre=MAPLIBRE, **context)
    )
    return HTMLResponse(page)
