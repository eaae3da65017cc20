"""OGC API – Features Part 1 (core, GeoJSON) and Part 2 (CRS) over plans and admin levels, plus grid info.

Collections come from :mod:`geogrid.maps.catalog`: ``grids.<layer>`` (the published plan), ``plan.<name>`` (every
version; drafts for planners only) and ``admin.<level>``. Paging reads one row past the page instead of counting,
so ``numberMatched`` is never reported.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.auth import ANONYMOUS, Caller, current_caller
from api.db import get_session
from api.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from api.settings import DatabaseSettings
from geogrid.maps.catalog import Collection, ordered, visible
from geogrid.maps.features import (
    CRS84,
    EPSG4490,
    SUPPORTED_CRS,
    fetch_item,
    fetch_items,
    lat_first,
    parse_crs_uri,
    properties_of,
)
from geogrid.maps.features import (
    Query as ItemsQuery,
)
from geogrid.maps.state import MapState

router = APIRouter(tags=["ogc-features"])

GEOJSON = "application/geo+json"
JSON = "application/json"
MAX_LIMIT = 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


def setup(app: FastAPI) -> None:
    """One MapState per app, shared with the tile and export routes."""
    app.state.maps = MapState(lambda: DatabaseSettings.from_env().url)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The map state's listener stops with the app."""
    try:
        yield
    finally:
        app.state.maps.close()


def maps_state(request: Request) -> MapState:
    return request.app.state.maps


def _json(body: dict, media_type: str = JSON, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"invalid {field}: {reason}", [{"field": field, "reason": reason}])


def admit(collection: Collection | None, cid: str, caller: Caller) -> Collection:
    """The collection if the caller may see it: unknown → 404, a draft for a non-planner → 401/403."""
    if collection is None:
        raise NotFound(f"no collection {cid!r}", [{"field": "collectionId", "reason": "not found"}])
    if not visible(collection, caller.role):
        if caller.is_public:
            raise NotAuthenticated(
                "draft plans need a planner's API key", [{"field": "X-API-Key", "reason": "missing"}]
            )
        raise Forbidden("draft plans are visible to planners only", [{"field": "role", "reason": "needs planner"}])
    return collection


def find_collection(request: Request, session: Session, cid: str, caller: Caller) -> Collection:
    return admit(maps_state(request).collection(session, cid), cid, caller)


# --- parameters ------------------------------------------------------------------------------------------------
def parse_bbox(value: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    """bbox as lon/lat in the store CRS; in EPSG:4326/4490 the client gives it lat-first (the CRS's axis order)."""
    if value is None:
        return None
    try:
        nums = [float(v) for v in value.split(",")]
    except ValueError:
        raise _bad("bbox", "must be 4 or 6 comma-separated numbers") from None
    if len(nums) not in (4, 6) or not all(math.isfinite(n) for n in nums):
        raise _bad("bbox", "must be 4 or 6 comma-separated numbers")
    half = len(nums) // 2
    a0, b0, a1, b1 = nums[0], nums[1], nums[half], nums[half + 1]
    crs = parse_crs_uri(bbox_crs)
    if crs is None:
        raise _bad("bbox-crs", f"unsupported; use one of {', '.join(SUPPORTED_CRS)}")
    x0, y0, x1, y1 = (b0, a0, b1, a1) if lat_first(crs) else (a0, b0, a1, b1)
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise _bad("bbox", "longitude must lie in [-180, 180] and latitude in [-90, 90]")
    if x0 > x1 or y0 > y1:
        raise _bad("bbox", "lower corner must come before upper corner")
    return x0, y0, x1, y1


def _instant(text_: str, field: str) -> datetime | None:
    if text_ in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(text_)
    except ValueError:
        raise _bad(field, f"{text_!r} is not an RFC 3339 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None] | None:
    """An instant or interval (``a/b``, ``../b``, ``a/..``) as (start, end); None when absent."""
    if value is None:
        return None
    if "/" in value:
        start_s, end_s = value.split("/", 1)
        start, end = _instant(start_s, "datetime"), _instant(end_s, "datetime")
        if start and end and start > end:
            raise _bad("datetime", "interval start is after its end")
        return start, end
    at = _instant(value, "datetime")
    if at is None:
        raise _bad("datetime", "an instant must be a date-time")
    return at, at


def valid_during(collection: Collection, span: tuple[datetime | None, datetime | None] | None) -> bool:
    """Whether the plan's validity [valid_from, valid_to) meets the requested instant or interval."""
    if span is None or collection.kind != "grids":
        return True  # admin areas carry no validity: every feature matches
    if collection.valid_from is None:
        return False  # a draft has never been valid
    start, end = span
    ends_after_start = collection.valid_to is None or start is None or collection.valid_to > start
    begins_before_end = end is None or collection.valid_from <= end
    return ends_after_start and begins_before_end


def parse_properties(value: str | None, collection: Collection) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in properties_of(collection)]
    if unknown:
        raise _bad("properties", f"unknown {', '.join(unknown)}; known: {', '.join(properties_of(collection))}")
    return names


def parse_output_crs(value: str | None) -> str:
    crs = parse_crs_uri(value)
    if crs is None:
        raise _bad("crs", f"unsupported; use one of {', '.join(SUPPORTED_CRS)}")
    return crs


# --- documents -------------------------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def collection_doc(request: Request, c: Collection) -> dict:
    base = _base(request)
    doc: dict = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": EPSG4490,
        "links": [
            {"href": f"{base}/collections/{c.id}", "rel": "self", "type": JSON, "title": c.title},
            {"href": f"{base}/collections/{c.id}/items", "rel": "items", "type": GEOJSON, "title": "features"},
            {"href": f"{base}/tiles/{c.id}.json", "rel": "tiles", "type": JSON, "title": "vector tiles (TileJSON)"},
            {
                "href": f"{base}/v1/exports/{c.id}?format=gpkg",
                "rel": "enclosure",
                "type": "application/geopackage+sqlite3",
            },
        ],
    }
    extent: dict = {}
    if c.bbox:
        extent["spatial"] = {"bbox": [list(c.bbox)], "crs": CRS84}
    if c.kind == "grids":
        extent["temporal"] = {
            "interval": [[_iso(c.valid_from), _iso(c.valid_to)]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
        doc["plan"] = {
            "name": c.plan_name,
            "layer": c.layer,
            "version": c.version,
            "status": c.status,
            "valid_from": _iso(c.valid_from),
            "valid_to": _iso(c.valid_to),
            "report": c.report,
        }
    else:
        doc["level"] = c.level
    if extent:
        doc["extent"] = extent
    return doc


@router.get("/", summary="OGC API landing page")
def landing(request: Request) -> Response:
    base = _base(request)
    return _json(
        {
            "title": request.app.title,
            "description": "Management grids (网格化管理) as OGC API – Features collections and vector tiles",
            "links": [
                {"href": f"{base}/", "rel": "self", "type": JSON, "title": "this document"},
                {
                    "href": f"{base}/openapi.json",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                },
                {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html"},
                {"href": f"{base}/conformance", "rel": "conformance", "type": JSON},
                {"href": f"{base}/collections", "rel": "data", "type": JSON},
                {"href": f"{base}/map", "rel": "alternate", "type": "text/html", "title": "web map"},
            ],
        }
    )


@router.get("/conformance", summary="Conformance classes")
def conformance() -> Response:
    return _json({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Collections the caller may see")
def collections(
    request: Request, session: Session = Depends(get_session), caller: Caller = Depends(current_caller)
) -> Response:
    cat = maps_state(request).catalog(session)
    base = _base(request)
    return _json(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON}],
            "crs": list(SUPPORTED_CRS),
            "collections": [collection_doc(request, c) for c in ordered(cat) if visible(c, caller.role)],
        }
    )


@router.get("/collections/{collection_id}", summary="One collection")
def collection(
    collection_id: str,
    request: Request,
    session: Session = Depends(get_session),
    caller: Caller = Depends(current_caller),
) -> Response:
    return _json(collection_doc(request, find_collection(request, session, collection_id, caller)))


def in_session(request: Request, x_api_key: str | None, authorization: str | None, work):
    """Run ``work(session, caller)`` with one session, in the calling (worker) thread.

    Why: the hottest read routes hop to a worker thread once for all their database work instead of once per
    dependency.
    """
    gen = get_session()
    session = next(gen)
    try:
        caller = current_caller(x_api_key, authorization, session) if (x_api_key or authorization) else ANONYMOUS
        result = work(session, caller)
    except BaseException as exc:
        try:
            gen.throw(exc)
        except type(exc):
            pass
        raise
    gen.close()
    return result


@router.get("/collections/{collection_id}/items", summary="Features, filtered and paged")
async def items(
    collection_id: str,
    request: Request,
    bbox: str | None = Query(default=None, description="minx,miny,maxx,maxy in bbox-crs (default CRS84)"),
    bbox_crs: str | None = Query(default=None, alias="bbox-crs"),
    limit: int = Query(default=100, ge=1, description=f"page size; values above {MAX_LIMIT} are reduced to it"),
    offset: int = Query(default=0, ge=0),
    properties: str | None = Query(default=None, description="comma-separated property names to return"),
    datetime_: str | None = Query(default=None, alias="datetime", description="instant or interval (RFC 3339)"),
    crs: str | None = Query(default=None, description="output CRS: CRS84 (default), EPSG:4326 or EPSG:4490"),
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> Response:
    out_crs = parse_output_crs(crs)
    box = parse_bbox(bbox, bbox_crs)
    span = parse_datetime(datetime_)

    def work(session: Session, caller: Caller) -> tuple[Collection, ItemsQuery, list[str], bool]:
        c = find_collection(request, session, collection_id, caller)
        query = ItemsQuery(
            bbox=box,
            limit=min(limit, MAX_LIMIT),
            offset=offset,
            properties=parse_properties(properties, c),
            crs=out_crs,
        )
        found, more = fetch_items(session, c, query) if valid_during(c, span) else ([], False)
        return c, query, found, more

    c, query, features, more = await run_in_threadpool(in_session, request, x_api_key, authorization, work)
    links = _page_links(request, c.id, query, more)
    tail = orjson.dumps(
        {"numberReturned": len(features), "timeStamp": datetime.now(UTC).isoformat(), "links": links}
    ).decode()
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]," + tail[1:]
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out_crs}>"})


def _page_links(request: Request, cid: str, query: ItemsQuery, more: bool) -> list[dict]:
    base = f"{_base(request)}/collections/{cid}/items"
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    params["limit"] = str(query.limit)

    def href(offset: int) -> str:
        return f"{base}?{urlencode({**params, 'offset': offset})}"

    links = [
        {"href": href(query.offset), "rel": "self", "type": GEOJSON},
        {"href": f"{_base(request)}/collections/{cid}", "rel": "collection", "type": JSON},
    ]
    if more:
        links.append({"href": href(query.offset + query.limit), "rel": "next", "type": GEOJSON})
    if query.offset > 0:
        links.append({"href": href(max(query.offset - query.limit, 0)), "rel": "prev", "type": GEOJSON})
    return links


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature by id (its code)")
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    crs: str | None = Query(default=None),
    session: Session = Depends(get_session),
    caller: Caller = Depends(current_caller),
) -> Response:
    c = find_collection(request, session, collection_id, caller)
    out_crs = parse_output_crs(crs)
    found = fetch_item(session, c, feature_id, out_crs)
    if found is None:
        raise NotFound(
            f"no feature {feature_id!r} in {collection_id!r}", [{"field": "featureId", "reason": "not found"}]
        )
    base = _base(request)
    links = orjson.dumps(
        [
            {"href": f"{base}/collections/{c.id}/items/{feature_id}", "rel": "self", "type": GEOJSON},
            {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": JSON},
        ]
    ).decode()
    body = found[:-1] + ',"links":' + links + "}"
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out_crs}>"})


# --- grid info for the web map and other clients ---------------------------------------------------------------
_GRID_INFO = """
SELECT g.code, g.local_code, g.name, g.tier, round(g.area_m2::numeric, 1) AS area_m2,
       round(g.diameter_m::numeric, 1) AS diameter_m,
       c.id AS c_id, c.code AS c_code, c.name AS c_name, s.id AS s_id, s.code AS s_code, s.name AS s_name,
       d.id AS d_id, d.code AS d_code, d.name AS d_name
FROM grid g
LEFT JOIN admin_area c ON c.id = g.community_id
LEFT JOIN admin_area s ON s.id = c.parent_id
LEFT JOIN admin_area d ON d.id = s.parent_id
WHERE g.plan_id = :plan_id AND g.code = :code
"""
_PEOPLE = """
SELECT a.role, p.name, u.code AS unit_code, u.name AS unit_name
FROM grid_assignment a JOIN person p ON p.id = a.person_id LEFT JOIN unit u ON u.id = p.unit_id
JOIN grid_layer l ON l.id = a.layer_id
WHERE l.name = :layer AND a.grid_code = :code ORDER BY a.role, p.name
"""
_GRID_UNITS = """
SELECT u.code, u.name, u.kind FROM grid_responsibility r
JOIN unit u ON u.id = r.unit_id JOIN grid_layer l ON l.id = r.layer_id
WHERE l.name = :layer AND r.grid_code = :code ORDER BY u.code
"""
_TERRITORY = """
SELECT u.code, u.name, u.kind, a.level FROM unit u JOIN admin_area a ON a.id = u.admin_area_id
WHERE u.admin_area_id = ANY(:areas) ORDER BY array_position(:areas, u.admin_area_id), u.code
"""


def _area(row, prefix: str) -> dict | None:
    if getattr(row, f"{prefix}_id") is None:
        return None
    return {
        "id": getattr(row, f"{prefix}_id"),
        "code": getattr(row, f"{prefix}_code"),
        "name": getattr(row, f"{prefix}_name"),
    }


@router.get("/v1/grids/{layer}/{code}", tags=["grids"], summary="A grid, its admin chain and who answers for it")
def grid_info(
    layer: str,
    code: str,
    request: Request,
    plan: str | None = Query(default=None, description="a plan name; default the layer's published plan"),
    session: Session = Depends(get_session),
    caller: Caller = Depends(current_caller),
) -> dict:
    """Responsible people appear by role, name and unit only: phone numbers never leave through this view."""
    cid = f"plan.{plan}" if plan else f"grids.{layer}"
    c = find_collection(request, session, cid, caller)
    if c.layer != layer:
        raise _bad("plan", f"plan {plan!r} belongs to layer {c.layer!r}, not {layer!r}")
    row = session.execute(text(_GRID_INFO), {"plan_id": c.plan_id, "code": code}).one_or_none()
    if row is None:
        raise NotFound(f"no grid {code!r} in plan {c.plan_name!r}", [{"field": "code", "reason": "not found"}])
    people = [
        {"role": p.role, "name": p.name, "unit": {"code": p.unit_code, "name": p.unit_name} if p.unit_code else None}
        for p in session.execute(text(_PEOPLE), {"layer": layer, "code": code})
    ]
    chain = [a for a in (_area(row, "c"), _area(row, "s"), _area(row, "d")) if a]
    territory = session.execute(text(_TERRITORY), {"areas": [a["id"] for a in chain]}).all()
    units: dict[str, dict] = {}
    for u in session.execute(text(_GRID_UNITS), {"layer": layer, "code": code}):
        units.setdefault(u.code, {"code": u.code, "name": u.name, "kind": u.kind, "via": "grid"})
    for p in people:
        if p["unit"]:
            units.setdefault(p["unit"]["code"], {**p["unit"], "via": "assignment"})
    for t in territory:
        units.setdefault(t.code, {"code": t.code, "name": t.name, "kind": t.kind, "via": f"territory ({t.level})"})
    return {
        "layer": layer,
        "plan": {"name": c.plan_name, "version": c.version, "status": c.status},
        "grid": {
            "code": row.code,
            "local_code": row.local_code,
            "name": row.name,
            "tier": row.tier,
            "area_m2": float(row.area_m2) if row.area_m2 is not None else None,
            "diameter_m": float(row.diameter_m) if row.diameter_m is not None else None,
        },
        "community": _area(row, "c"),
        "street": _area(row, "s"),
        "district": _area(row, "d"),
        "people": people,
        "units": list(units.values()),
    }
