"""Duty beyond one unit per grid: sites (``/v1/sites``) and duty rules (``/v1/duty-rules``).

A duty rule names a unit as ``lead`` or ``co`` (co-handling) for a grid (``scope: grid``, ``layer`` +
``grid_code``), one site (``scope: site``, ``site_code``) or every site of a kind (``scope: site_kind``,
``site_kind``), for a category (``event:01``, ``component:0101``) or for every category (omit ``category``).
Routing (``/v1/route``, reports) applies them after the catalogue (see ``geogrid.supervision.duty``): site rules
override the grid's. Writes need an operator key; reads are open.
"""

from __future__ import annotations

from typing import Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Caller, require_roles
from api.db import get_session
from api.errors import Conflict, InvalidInput, NotFound
from api.routers.locate import _json, invalid
from geogrid.io import InputError
from geogrid.routing.categories import CategoryError, parse_category
from geogrid.store.models import GridLayer, Unit
from geogrid.supervision.models import DutyRule, DutySite
from geogrid.supervision.sites import DEFAULT_RADIUS_M, import_sites_geojson

router = APIRouter(prefix="/v1", tags=["duty"])
WRITE = Depends(require_roles("operator"))


class DutyRuleIn(BaseModel):
    scope: Literal["grid", "site", "site_kind"]
    unit_code: str | None = Field(None, description="the unit, by code (or unit_id)")
    unit_id: int | None = None
    role: Literal["lead", "co"] = "lead"
    category: str | None = Field(None, description="event:01, component:0101 …; omit for every category")
    layer: str | None = Field(None, description="scope grid: the grid layer")
    grid_code: str | None = Field(None, max_length=32, description="scope grid")
    site_code: str | None = Field(None, description="scope site")
    site_kind: str | None = Field(None, max_length=32, description="scope site_kind: market, hospital, park …")


def _rule(r: DutyRule, names: dict) -> dict:
    return {"id": r.id, "scope": r.scope, "role": r.role, "unit_id": r.unit_id, "unit": names.get(("u", r.unit_id)),
            "category": f"{r.kind}:{r.code}" if r.kind and r.code else r.kind, "layer": names.get(("l", r.layer_id)),
            "grid_code": r.grid_code, "site_id": r.site_id, "site_kind": r.site_kind}  # fmt: skip


def _names(session: Session) -> dict:
    out = {("u", i): code for i, code in session.execute(select(Unit.id, Unit.code))}
    out |= {("l", i): name for i, name in session.execute(select(GridLayer.id, GridLayer.name))}
    return out


def _target(session: Session, body: DutyRuleIn) -> dict:
    if body.scope == "grid":
        if not body.layer or not body.grid_code:
            raise invalid("grid_code", "scope grid needs layer and grid_code")
        layer_id = session.scalar(select(GridLayer.id).where(GridLayer.name == body.layer))
        if layer_id is None:
            raise invalid("layer", f"no grid layer named {body.layer!r}")
        return {"layer_id": layer_id, "grid_code": body.grid_code}
    if body.scope == "site":
        site_id = session.scalar(select(DutySite.id).where(DutySite.code == (body.site_code or "")))
        if site_id is None:
            raise invalid("site_code", f"no site with code {body.site_code!r}")
        return {"site_id": site_id}
    if not body.site_kind:
        raise invalid("site_kind", "scope site_kind needs site_kind")
    return {"site_kind": body.site_kind.strip().lower()}


@router.post("/duty-rules", status_code=201, summary="Add a lead or co-handling duty for a grid, site or site kind")
def create_rule(body: DutyRuleIn, session: Session = Depends(get_session), _: Caller = WRITE) -> Response:
    kind, code = None, ""
    if body.category:
        try:
            cat = parse_category(body.category)
        except CategoryError as exc:
            raise invalid("category", str(exc)) from None
        kind, code = cat.kind, cat.code
    unit_id = body.unit_id
    if body.unit_code is not None:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == body.unit_code))
    if unit_id is None or session.get(Unit, unit_id) is None:
        raise invalid("unit_code", "give an existing unit_code or unit_id")
    row = DutyRule(scope=body.scope, kind=kind, code=code, unit_id=unit_id, role=body.role, **_target(session, body))
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        reason = "a lead already exists for this target and category" if "one_lead" in str(exc.orig) else "exists"
        raise Conflict(f"duty rule conflicts: {reason}", [{"field": "role", "reason": reason}]) from None
    view = _rule(row, _names(session))
    session.commit()
    return Response(_json(view).body, status_code=201, media_type="application/json")


@router.get("/duty-rules", summary="Duty rules")
def list_rules(session: Session = Depends(get_session)) -> Response:
    names = _names(session)
    return _json([_rule(r, names) for r in session.scalars(select(DutyRule).order_by(DutyRule.id))])


@router.delete("/duty-rules/{rule_id}", status_code=204, summary="Delete a duty rule")
def delete_rule(rule_id: int, session: Session = Depends(get_session), _: Caller = WRITE) -> Response:
    row = session.get(DutyRule, rule_id)
    if row is None:
        raise NotFound(f"no duty rule {rule_id}", [{"field": "rule_id", "reason": "not found"}])
    session.delete(row)
    session.commit()
    return Response(status_code=204)


@router.post("/sites", summary="Import sites from a GeoJSON FeatureCollection (properties: code, name, kind)")
async def post_sites(
    request: Request,
    crs: str | None = Query(None, description="wgs84 (default), cgcs2000, gcj02, bd09, EPSG:n"),
    radius_m: float = Query(DEFAULT_RADIUS_M, gt=0, le=2000, description="buffer for point and line sites"),
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> dict:
    try:
        collection = await request.json()
    except ValueError:
        raise invalid("body", "not valid JSON") from None
    try:
        count = import_sites_geojson(session, collection, crs, radius_m)
    except (InputError, ValueError) as exc:
        session.rollback()
        raise InvalidInput(str(exc), [{"field": "body", "reason": str(exc)}]) from None
    session.commit()
    return {"sites": count}


@router.get("/sites", summary="Sites as GeoJSON (EPSG:4490 coordinates)")
def list_sites(kind: str | None = None, session: Session = Depends(get_session)) -> Response:
    stmt = select(DutySite.id, DutySite.code, DutySite.name, DutySite.kind, func.ST_AsGeoJSON(DutySite.geom, 7))
    if kind:
        stmt = stmt.where(DutySite.kind == kind.lower())
    features = [
        {"type": "Feature", "id": i, "properties": {"code": c, "name": n, "kind": k}, "geometry": orjson.loads(g)}
        for i, c, n, k, g in session.execute(stmt.order_by(DutySite.code))
    ]
    return _json({"type": "FeatureCollection", "features": features})
