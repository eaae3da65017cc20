"""The planner's workbench over HTTP: copy a plan into a draft, edit it with live checks, undo and redo, compare
two plans, see the impact of publishing, publish with a note and read the filing record.

Everything needs a planner (or admin) key, except the road tiles of a plan that is not a draft. Every edit is
journaled with the caller's account and the time. Refusals are 409 with the broken rules in ``breaks``; bad
parameters are 422 naming the field. See ``geogrid.planner`` for the rules themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.auth import Caller, caller_from_headers, current_caller, require_roles
from api.db import get_session
from api.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from api.routers.ogc import maps_state
from geogrid.maps.tiles import valid_tile
from geogrid.planner import diff as plan_diff
from geogrid.planner import edits, tiles
from geogrid.planner.drafts import copy_plan, get_plan
from geogrid.planner.errors import BadEdit, EditRefused, PlanMissing, PlannerError
from geogrid.planner.geometry import POLYGONAL, parse_geojson
from geogrid.planner.impact import impact as plan_impact
from geogrid.planner.publish import history, publish_draft
from geogrid.planner.roads import network_of
from geogrid.store.plans import list_plans

router = APIRouter(prefix="/v1/plans", tags=["planner"])
PLANNER = Depends(require_roles("planner"))
MVT = "application/vnd.mapbox-vector-tile"
NAME = Path(description="plan name")
MAX_BLOCKS_LISTED = 5000

_SELECT_BLOCKS = text(
    "SELECT b.id, b.grid_code FROM plan_block b WHERE b.plan_id = :p "
    "AND ST_Intersects(b.geom, ST_GeomFromWKB(:g, 4490)) "
    "AND ST_Area(ST_Intersection(b.geom, ST_GeomFromWKB(:g, 4490))) >= 0.5 * ST_Area(b.geom) ORDER BY b.id"
)
_GRID_LIST = text(
    "SELECT g.code, g.name, g.tier, round(g.area_m2::numeric, 1)::float8 AS area_m2, c.code AS community_code, "
    "c.name AS community_name, round(ST_X(p)::numeric, 7)::float8 AS lon, round(ST_Y(p)::numeric, 7)::float8 AS lat "
    "FROM grid g LEFT JOIN admin_area c ON c.id = g.community_id CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p "
    "WHERE g.plan_id = :p ORDER BY g.code"
)
_BLOCKS_GEOJSON = text(
    "SELECT json_build_object('type', 'Feature', 'id', b.id, 'geometry', ST_AsGeoJSON(b.geom, 7, 0)::json, "
    "'properties', json_build_object('id', b.id, 'grid_code', b.grid_code, 'area_m2', round(b.area_m2::numeric, 1), "
    "'community_id', b.community_id, 'cases', b.cases))::text FROM plan_block b WHERE b.plan_id = :p "
    "AND b.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490) ORDER BY b.id LIMIT :n"
)


def actor(caller: Caller) -> tuple[str, int | None]:
    return caller.name, caller.account_id


def run(work: Callable[[], Any]) -> Any:
    """Turn the workbench's refusals into the API's errors (422 / 404 / 409)."""
    try:
        return work()
    except BadEdit as exc:
        raise InvalidInput(exc.message, exc.details) from None
    except PlanMissing as exc:
        raise NotFound(exc.message, exc.details) from None
    except EditRefused as exc:
        raise Conflict(exc.message, exc.details, breaks=exc.breaks) from None
    except PlannerError as exc:
        raise InvalidInput(exc.message, exc.details) from None


@router.get("", summary="Every plan (drafts for planners only)")
def plans(
    layer: str | None = None, caller: Caller = Depends(current_caller), session: Session = Depends(get_session)
) -> dict:
    planner = caller.role in ("planner", "admin")
    return {"plans": [p for p in list_plans(session, layer) if planner or p["status"] != "draft"]}


@router.get("/{name}/grids", summary="The plan's grids without geometry: code, name, tier, area, a label point")
def grids(name: str = NAME, caller: Caller = Depends(current_caller), session: Session = Depends(get_session)) -> dict:
    plan = run(lambda: get_plan(session, name))
    if plan.status == "draft":
        _planner_only(caller)
    rows = session.execute(_GRID_LIST, {"p": plan.id}).mappings().all()
    return {"plan": name, "status": plan.status, "grids": [dict(r) for r in rows]}


@router.post("/{name}/copy", status_code=201, summary="A new draft from any plan (published or not)")
def copy(
    request: Request,
    name: str = NAME,
    body: dict = Body(..., examples=[{"name": "街道网格-2027-草案"}]),
    caller: Caller = PLANNER,
    session: Session = Depends(get_session),
) -> dict:
    draft = run(lambda: copy_plan(session, name, body.get("name"), actor(caller)))
    blocks = session.execute(text("SELECT count(*) FROM plan_block WHERE plan_id = :p"), {"p": draft.id}).scalar()
    maps_state(request).catalog(session, refresh=True)  # this worker lists the draft at once; others within the TTL
    head = {"version": draft.version, "status": draft.status, "copied_from": name, "blocks": blocks}
    return head | run(lambda: edits.checks(session, draft.name, actor(caller)))


@router.get("/{name}/checks", summary="The live checks of a draft")
def checks(name: str = NAME, caller: Caller = PLANNER, session: Session = Depends(get_session)) -> dict:
    return run(lambda: edits.checks(session, name, actor(caller)))


@router.post("/{name}/edits", summary="One edit: move, merge, split, recode or set")
def edit(
    name: str = NAME,
    body: dict = Body(
        ...,
        examples=[
            {"op": "move", "blocks": [101, 102], "to": "110101001003012"},
            {"op": "merge", "codes": ["110101001003012", "110101001003013"]},
            {"op": "split", "code": "110101001003012", "line": {"type": "LineString", "coordinates": []}},
            {"op": "recode"},
            {"op": "set", "code": "110101001003012", "tier": "A", "name": "兴和一网格"},
        ],
    ),
    caller: Caller = PLANNER,
    session: Session = Depends(get_session),
) -> dict:
    return run(lambda: edits.edit(session, name, body, actor(caller)))


@router.get("/{name}/edits", summary="The draft's journal: every edit, undo and redo with who and when")
def journal(name: str = NAME, caller: Caller = PLANNER, session: Session = Depends(get_session)) -> dict:
    plan = run(lambda: get_plan(session, name))
    return {"plan": name, "edits": edits.journal_of(session, plan)}


@router.post("/{name}/undo", summary="Undo the newest edit")
def undo(name: str = NAME, caller: Caller = PLANNER, session: Session = Depends(get_session)) -> dict:
    return run(lambda: edits.undo(session, name, actor(caller)))


@router.post("/{name}/redo", summary="Redo the last undone edit")
def redo(name: str = NAME, caller: Caller = PLANNER, session: Session = Depends(get_session)) -> dict:
    return run(lambda: edits.redo(session, name, actor(caller)))


@router.get("/{name}/blocks", summary="A draft's blocks in a bounding box (GeoJSON)")
def blocks(
    name: str = NAME,
    bbox: str = Query(..., description="minlon,minlat,maxlon,maxlat"),
    caller: Caller = PLANNER,
    session: Session = Depends(get_session),
) -> Response:
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:
        raise InvalidInput("bbox: four numbers", [{"field": "bbox", "reason": "minlon,minlat,maxlon,maxlat"}]) from None
    plan = run(lambda: get_plan(session, name))
    params = {"p": plan.id, "x0": x0, "y0": y0, "x1": x1, "y1": y1, "n": MAX_BLOCKS_LISTED}
    features = session.execute(_BLOCKS_GEOJSON, params).scalars().all()
    body = '{"type":"FeatureCollection","features":[' + ",".join(map(str, features)) + "]}"
    return Response(body, media_type="application/geo+json")


@router.post("/{name}/blocks/select", summary="Ids of the blocks mostly inside a polygon (a lasso)")
def select_blocks(
    name: str = NAME, body: dict = Body(...), caller: Caller = PLANNER, session: Session = Depends(get_session)
) -> dict:
    shape = run(lambda: parse_geojson(body.get("geometry"), "geometry", POLYGONAL, body.get("crs")))
    plan = run(lambda: get_plan(session, name))
    rows = session.execute(_SELECT_BLOCKS, {"p": plan.id, "g": shape.wkb}).all()
    return {"blocks": [r.id for r in rows], "grids": sorted({r.grid_code for r in rows})}


@router.get("/{a}/diff/{b}", summary="Grids added, removed, reshaped, unchanged; lineage (f=csv: lineage rows)")
def diff(
    a: str,
    b: str,
    f: str = Query("json", description="json or csv"),
    caller: Caller = PLANNER,
    session: Session = Depends(get_session),
) -> Any:
    if f not in ("json", "csv"):
        raise InvalidInput("f: json or csv", [{"field": "f", "reason": "must be json or csv"}])
    result = run(lambda: plan_diff.diff(session, a, b))
    if f == "csv":
        name = f"lineage-{a}-{b}.csv".replace('"', "")
        return Response(
            plan_diff.lineage_csv(result["lineage"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )
    return result


@router.get("/{name}/impact", summary="What publishing the draft changes for open cases, people, units, routing")
def impact(name: str = NAME, caller: Caller = PLANNER, session: Session = Depends(get_session)) -> dict:
    return run(lambda: plan_impact(session, name))


@router.post("/{name}/publish", summary="Publish a draft with a note; keeps the filing record (备案)")
def publish(
    name: str = NAME,
    body: dict = Body(..., examples=[{"note": "2027 年度网格调整：兴和社区拆分为两个网格"}]),
    caller: Caller = PLANNER,
    session: Session = Depends(get_session),
) -> dict:
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise InvalidInput("force: true or false", [{"field": "force", "reason": "must be a boolean"}])
    try:
        return run(lambda: publish_draft(session, name, body.get("note"), actor(caller), force=force))
    except Conflict as exc:  # the store's message speaks to the command line
        exc.message = exc.message.replace("--force", '"force": true')
        raise


@router.get("/{name}/history", summary="Filing records and the edit journal of a plan")
def plan_history(name: str = NAME, caller: Caller = PLANNER, session: Session = Depends(get_session)) -> dict:
    return run(lambda: history(session, name))


def _planner_only(caller: Caller) -> None:
    if caller.is_public:
        raise NotAuthenticated("drafts need a planner's API key", [{"field": "X-API-Key", "reason": "missing"}])
    require_roles("planner")(caller)


def _tile_plan(session: Session, name: str, caller: Caller, layer: str):
    plan = run(lambda: get_plan(session, name))
    if plan.status == "draft" or layer == "blocks":
        _planner_only(caller)
    return plan


@router.get("/{name}/tiles/{layer}/{z}/{x}/{y}.mvt", summary="Road network or draft blocks as a vector tile")
async def tile(
    name: str,
    layer: str,
    z: int,
    x: int,
    y: int,
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> Response:
    if layer not in ("roads", "blocks"):
        raise NotFound(f"no tile layer {layer!r}", [{"field": "layer", "reason": "roads or blocks"}])
    reason = valid_tile(z, x, y)
    if reason:
        raise InvalidInput(f"invalid tile {z}/{x}/{y}: {reason}", [{"field": "z/x/y", "reason": reason}])

    def work() -> tuple[bytes, bool]:
        gen = get_session()
        session = next(gen)
        try:
            caller = caller_from_headers(x_api_key, authorization)
            plan = _tile_plan(session, name, caller, layer)
            if layer == "blocks":
                return tiles.blocks_tile(session, plan.id, z, x, y), True
            network = network_of(session, plan.id)
            return (tiles.roads_tile(session, network, z, x, y) if network else b""), plan.status == "draft"
        finally:
            gen.close()

    data, private = await run_in_threadpool(work)
    cache = "private, no-cache" if private else "public, max-age=300"
    return Response(data, media_type=MVT, headers={"Cache-Control": cache})
