"""Vector tiles (``/tiles/{collection}/{z}/{x}/{y}.mvt``) and their TileJSON, served from an in-process cache.

Anonymous requests for public collections go through :class:`TileFront`, ahead of routing. The warm path answers
from memory without touching the database: the catalogue and the tile are both cached and
invalidated together when a plan is published (see :class:`geogrid.maps.state.MapState`). Clients revalidate with
``If-None-Match``; the ETag is a hash of the tile bytes, so it agrees across workers and restarts.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError

from api.auth import Caller, caller_from_headers
from api.errors import InvalidInput, Unavailable, error_body
from api.replicas import get_read_session
from api.routers.ogc import admit, maps_state
from geogrid.maps.cache import CachedTile
from geogrid.maps.catalog import Collection
from geogrid.maps.tiles import MAX_ZOOM, lonlat_bounds_to_zoom_center, tile_fields, valid_tile

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
MIN_ZOOM = 0
# A layer's published plan changes on publication; a plan version never does; admin areas change on imports.
CACHE_CONTROL = {"layer": "public, max-age=60", "plan": "public, max-age=86400", "admin": "public, max-age=300"}


def _caller_and_collection(
    request: Request, cid: str, x_api_key: str | None, authorization: str | None, fresh: bool
) -> tuple[Collection, Caller]:
    """Resolve the caller (only when a key is sent) and the collection, in a worker thread (both may query)."""
    gen = get_read_session()
    session = next(gen)
    try:
        caller = caller_from_headers(x_api_key, authorization)
        found = None if fresh else maps_state(request).cached_collection(cid)
        if found is None:
            found = maps_state(request).collection(session, cid)
        return admit(found, cid, caller), caller
    finally:
        gen.close()


def store_down(exc: DBAPIError) -> Unavailable:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return Unavailable("tiles cannot be rendered: the store is unreachable", [{"field": "store", "reason": reason}])


def _render(request: Request, collection: Collection, z: int, x: int, y: int) -> CachedTile:
    gen = get_read_session()
    session = next(gen)
    try:
        return maps_state(request).render(session, collection, z, x, y)
    except DBAPIError as exc:
        raise store_down(exc) from None
    finally:
        gen.close()


class TileFront:
    """ASGI front for anonymous tiles of public collections: cache hits and misses are served before routing.

    Why: FastAPI's routing and dependency machinery costs more than answering a cached tile; it is kept for
    everything that needs it (an API key, a cross-origin request needing CORS headers, a draft, an unknown or
    expired collection id, a malformed path), which falls through to the route below.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith("/tiles/"):
            answer = await self._answer(scope)
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(scope) -> tuple[int, list, bytes] | None:
        path = scope["path"]
        if not path.endswith(".mvt"):
            return None
        parts = path[len("/tiles/") : -len(".mvt")].rsplit("/", 3)
        if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts[1:]):
            return None
        if_none_match = None
        for name, value in scope["headers"]:
            if name in (b"x-api-key", b"authorization", b"origin"):
                return None
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        state = getattr(scope["app"].state, "maps", None)
        c = state.cached_collection(parts[0]) if state is not None else None
        if c is None or c.is_draft:
            return None
        z, x, y = int(parts[1]), int(parts[2]), int(parts[3])
        if valid_tile(z, x, y):
            return None
        hit = state.cached_tile(c, z, x, y)
        if hit is None:
            try:
                hit = await run_in_threadpool(state.render_fresh, c, z, x, y)
            except DBAPIError as exc:
                err = store_down(exc)
                body = orjson.dumps(error_body(err.code, err.message, err.details))
                return 503, [(b"content-type", b"application/json"), (b"retry-after", b"2")], body
        headers = [(b"etag", hit.etag.encode()), (b"cache-control", _cache_control(c).encode())]
        if if_none_match and _matches(if_none_match, hit.etag):
            return 304, headers, b""
        headers += [(b"content-type", MVT.encode()), (b"content-length", str(len(hit.data)).encode())]
        return 200, headers, hit.data


def setup(app: FastAPI) -> None:
    app.add_middleware(TileFront)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match requires."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _cache_control(c: Collection) -> str:
    if c.is_draft:
        return "private, no-cache"
    if c.kind == "admin":
        return CACHE_CONTROL["admin"]
    return CACHE_CONTROL["plan" if c.stable else "layer"]


@router.get("/tiles/{collection_id}/{z}/{x}/{y}.mvt", summary="A Mapbox vector tile (WebMercatorQuad)")
async def tile(
    collection_id: str,
    z: int,
    x: int,
    y: int,
    request: Request,
    if_none_match: str | None = Header(default=None),
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> Response:
    reason = valid_tile(z, x, y)
    if reason:
        raise InvalidInput(f"invalid tile {z}/{x}/{y}: {reason}", [{"field": "z/x/y", "reason": reason}])
    state = maps_state(request)
    anonymous = not (x_api_key or authorization)
    c = state.cached_collection(collection_id) if anonymous else None
    if c is None or c.is_draft:  # slow path: the database decides who the caller is and what the id is
        c, _ = await run_in_threadpool(_caller_and_collection, request, collection_id, x_api_key, authorization, False)
    hit = state.cached_tile(c, z, x, y)
    if hit is None:
        hit = await run_in_threadpool(_render, request, c, z, x, y)
    headers = {"ETag": hit.etag, "Cache-Control": _cache_control(c)}
    if c.is_draft:
        headers["Vary"] = "X-API-Key, Authorization"
    if if_none_match and _matches(if_none_match, hit.etag):
        return Response(status_code=304, headers=headers)
    return Response(hit.data, media_type=MVT, headers=headers)


@router.get("/tiles/{collection_id}.json", summary="TileJSON 3.0 for a collection")
async def tilejson(
    collection_id: str,
    request: Request,
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> dict:
    c, _ = await run_in_threadpool(_caller_and_collection, request, collection_id, x_api_key, authorization, True)
    base = str(request.base_url).rstrip("/")
    return tilejson_doc(c, f"{base}/tiles/{c.id}/{{z}}/{{x}}/{{y}}.mvt")


def tilejson_doc(c: Collection, tiles_url: str) -> dict:
    """TileJSON 3.0 for the collection's Web Mercator tiles at ``tiles_url`` (a {z}/{x}/{y} template)."""
    doc = {
        "tilejson": "3.0.0",
        "name": c.id,
        "description": c.title,
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": c.tile_layer, "fields": tile_fields(c), "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM}],
        "attribution": "geogrid",
    }
    if c.bbox:
        doc["bounds"] = list(c.bbox)
        doc["center"] = lonlat_bounds_to_zoom_center(c.bbox, MIN_ZOOM, 18)
    return doc
