"""OGC API – Features Part 1 (core, GeoJSON, HTML), Part 2 (CRS) and Part 3 (queryables, filters), plus grid info.

Collections come from :mod:`geogrid.maps.catalog`: ``grids.<layer>`` (the published plan), ``plan.<name>`` (every
version; drafts for planners only) and ``admin.<level>``. Parameters are validated by :mod:`api.ogc.params` (400 on
an unknown or invalid one); paging reads one row past the page, and ``numberMatched`` is given where it is cheap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.auth import Caller, caller_from_headers, current_caller
from api.db import get_session
from api.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from api.head import HeadAsGet
from api.ogc import html
from api.ogc.documents import (
    CONFORMANCE,
    GEOJSON,
    HTML,
    JSON,
    SCHEMA_JSON,
    base_url,
    collection_doc,
    landing_doc,
    page_links,
)
from api.ogc.params import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    check_known,
    crs_param,
    items_request,
    output_format,
    valid_during,
)
from api.replicas import get_read_session
from api.settings import DatabaseSettings
from geogrid.maps.catalog import Collection, ordered, visible
from geogrid.maps.features import SUPPORTED_CRS, count_matched, fetch_item, fetch_items, queryables_of
from geogrid.maps.features import Query as ItemsQuery
from geogrid.maps.filters import ADMIN_QUERYABLES, FILTER_LANGS, GRID_QUERYABLES, queryables_schema
from geogrid.maps.state import MapState

CollectionId = Annotated[str, Path(alias="collectionId", description="a collection id, e.g. grids.<layer>")]
router = APIRouter(tags=["ogc-features"])
MATCH_COUNT_CAP = 10_000
"""A filtered ``numberMatched`` is counted up to this many features, and left out beyond."""


def setup(app: FastAPI) -> None:
    """One MapState per app, shared with the tile and export routes; HEAD answered wherever GET is."""
    app.state.maps = MapState(lambda: DatabaseSettings.from_env().url)
    app.add_middleware(HeadAsGet)


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


def visible_collection(
    collection_id: CollectionId,
    request: Request,
    session: Session = Depends(get_read_session),
    caller: Caller = Depends(current_caller),
) -> Collection:
    """Dependency: the collection named in the path, if the caller may see it (404, 401 or 403 otherwise)."""
    return find_collection(request, session, collection_id, caller)


VisibleCollection = Annotated[Collection, Depends(visible_collection)]


# --- OGC API routes ----------------------------------------------------------------------------------------
def _page(request: Request, fmt: str, template: str, title: str, doc: dict, media_type: str = JSON, **extra):
    """The document as JSON, or its HTML page."""
    if fmt == "html":
        return html.render(request, template, title, doc=doc, base=base_url(request), **extra)
    return _json(doc, media_type)


@router.get("/", summary="OGC API landing page")
def landing(request: Request) -> Response:
    check_known(request, {"f"})
    return _page(request, output_format(request), "landing.html", request.app.title, landing_doc(request))


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request) -> Response:
    check_known(request, {"f"})
    return _page(request, output_format(request), "conformance.html", "Conformance", {"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Collections the caller may see")
def collections(
    request: Request, session: Session = Depends(get_session), caller: Caller = Depends(current_caller)
) -> Response:
    check_known(request, {"f"})
    cat = maps_state(request).catalog(session)
    base = base_url(request)
    doc = {
        "links": [
            {"href": f"{base}/collections", "rel": "self", "type": JSON},
            {"href": f"{base}/collections?f=html", "rel": "alternate", "type": HTML},
        ],
        "crs": list(SUPPORTED_CRS),
        "collections": [collection_doc(request, c) for c in ordered(cat) if visible(c, caller.role)],
    }
    return _page(request, output_format(request), "collections.html", "Collections 图层", doc)


@router.get("/collections/{collectionId}", summary="One collection")
def collection(
    c: VisibleCollection,
    request: Request,
) -> Response:
    check_known(request, {"f"})
    return _page(request, output_format(request), "collection.html", c.title, collection_doc(request, c))


@router.get("/collections/{collectionId}/queryables", summary="What the collection's features can be filtered on")
def queryables(
    c: VisibleCollection,
    request: Request,
    session: Session = Depends(get_session),
) -> Response:
    check_known(request, {"f"})
    self_url = f"{base_url(request)}/collections/{c.id}/queryables"
    doc = queryables_schema(queryables_of(c), c.title, self_url)
    return _page(request, output_format(request), "queryables.html", f"{c.id}: queryables", doc, SCHEMA_JSON)


def in_session(request: Request, x_api_key: str | None, authorization: str | None, work):
    """Run ``work(session, caller)`` with one session, in the calling (worker) thread.

    Why: the hottest read routes hop to a worker thread once for all their database work instead of once per
    dependency. Lag-tolerant: read from a replica when one is configured.
    """
    gen = get_read_session()
    session = next(gen)
    try:
        caller = caller_from_headers(x_api_key, authorization)
        result = work(session, caller)
    except BaseException as exc:
        try:
            gen.throw(exc)
        except type(exc):
            pass
        raise
    gen.close()
    return result


def number_matched(session: Session, c: Collection, query: ItemsQuery, returned: int, more: bool) -> int | None:
    """``numberMatched`` where it is cheap: a plan version's own count, the last page's arithmetic, or a capped count.

    A published or retired plan never changes, so the catalogue's count is exact for it when nothing filters.
    """
    if not query.filtered and c.kind == "grids" and not c.is_draft:
        return c.features
    if not more and (returned > 0 or query.offset == 0):
        return query.offset + returned
    return count_matched(session, c, query, MATCH_COUNT_CAP)


def _param(name: str, description: str, enum: list[str] | None = None) -> dict:
    schema: dict = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


ITEMS_PARAMETERS = [
    _param("bbox", "minx,miny,maxx,maxy in bbox-crs (default CRS84)"),
    _param("bbox-crs", "CRS of bbox: CRS84 (default), EPSG:4326 or EPSG:4490 (lat-first)"),
    _param("limit", f"page size (1–{MAX_LIMIT}; default {DEFAULT_LIMIT}; larger values are reduced)"),
    _param("offset", "features to skip"),
    _param("properties", "comma-separated property names to return"),
    _param("datetime", "instant or interval (RFC 3339) the plan must be valid in"),
    _param("crs", "output CRS: CRS84 (default), EPSG:4326 or EPSG:4490"),
    _param("filter", "CQL2 filter, e.g. tier='A' AND S_INTERSECTS(geometry, POINT(106.70 26.57))"),
    _param("filter-lang", "cql2-text (default) or cql2-json; cql-text is the draft name", list(FILTER_LANGS)),
    _param("filter-crs", "CRS of the filter's geometries (default CRS84)"),
    _param("f", "json (default) or html", ["json", "html"]),
    # Simple property filters (Part 3 queryables-query-parameters): every queryable, as listed by /queryables.
    *[_param(name, f"{q.title}: equality filter") for name, q in {**ADMIN_QUERYABLES, **GRID_QUERYABLES}.items()],
]
"""Declared for the OpenAPI document: clients such as GDAL read which properties the server filters on from it."""


@router.get(
    "/collections/{collectionId}/items",
    summary="Features, filtered and paged",
    openapi_extra={"parameters": ITEMS_PARAMETERS},
)
async def items(
    collection_id: CollectionId,
    request: Request,
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> Response:
    def work(session: Session, caller: Caller) -> tuple[Collection, ItemsQuery, list[str], bool, int | None, str]:
        c = find_collection(request, session, collection_id, caller)
        asked = items_request(request, c)
        query = ItemsQuery(asked.bbox, asked.limit, asked.offset, asked.properties, asked.crs, asked.where)
        if not valid_during(c, asked.span):
            return c, query, [], False, 0, asked.format
        found, more = fetch_items(session, c, query)
        return c, query, found, more, number_matched(session, c, query, len(found), more), asked.format

    c, query, features, more, matched, fmt = await run_in_threadpool(
        in_session, request, x_api_key, authorization, work
    )
    tail: dict = {"numberReturned": len(features), "timeStamp": datetime.now(UTC).isoformat()}
    if matched is not None:
        tail["numberMatched"] = matched
    tail["links"] = page_links(request, c.id, query, more)
    if fmt == "html":
        doc = {"type": "FeatureCollection", "features": [orjson.loads(f) for f in features], **tail}
        items_href = f"{base_url(request)}/collections/{c.id}/items"
        return html.render(request, "items.html", f"{c.title}: features", doc=doc, items_href=items_href)
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]," + orjson.dumps(tail).decode()[1:]
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{query.crs}>"})


@router.get("/collections/{collectionId}/items/{feature_id}", summary="One feature by id (its code)")
def item(
    c: VisibleCollection,
    feature_id: str,
    request: Request,
    session: Session = Depends(get_read_session),
) -> Response:
    check_known(request, {"f", "crs"})
    out_crs = crs_param(request.query_params.get("crs"), "crs")
    fmt = output_format(request)
    found = fetch_item(session, c, feature_id, out_crs)
    if found is None:
        raise NotFound(f"no feature {feature_id!r} in {c.id!r}", [{"field": "featureId", "reason": "not found"}])
    base = base_url(request)
    here = f"{base}/collections/{c.id}/items/{quote(feature_id, safe='')}"
    links = [
        {"href": here, "rel": "self", "type": GEOJSON},
        {"href": f"{here}?f=html", "rel": "alternate", "type": HTML},
        {"href": f"{base}/collections/{c.id}", "rel": "collection", "type": JSON},
    ]
    if fmt == "html":
        return html.render(request, "item.html", f"{c.id}: {feature_id}", doc=orjson.loads(found))
    body = found[:-1] + ',"links":' + orjson.dumps(links).decode() + "}"
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
