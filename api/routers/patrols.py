"""Patrols: ``POST /v1/patrols`` (a GPS track), ``GET /v1/patrols`` (the patrol layer as GeoJSON, for operators),
``GET /v1/patrols/compliance`` (weekly compliance per grid).

A collector posts their own track (it is attributed to their account and to the person linked to it); an operator
may post on behalf of a person (``person_id``). Tracks are personal location data: only operators read them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import Caller, require_roles
from api.db import get_session
from api.routers.locate import _json
from api.routers.reports import invalid
from geogrid.cases.settings import CaseSettings
from geogrid.patrols.compliance import parse_week, weekly_compliance
from geogrid.patrols.models import Patrol, PatrolGrid
from geogrid.patrols.settings import PatrolSettings
from geogrid.patrols.tracks import TrackError, parse_track, store_patrol
from geogrid.store.models import GridLayer, Person

router = APIRouter(prefix="/v1", tags=["patrols"])
MAX_BODY = 4 * 1024 * 1024


def _person(session: Session, caller: Caller, asked: int | None) -> int | None:
    if asked is not None and caller.role in ("operator", "admin"):
        if session.get(Person, asked) is None:
            raise invalid("person_id", f"no person with id {asked}")
        return asked
    return session.scalar(select(Person.id).where(Person.account_id == caller.account_id).order_by(Person.id))


def _visits(session: Session, patrol_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {pid: [] for pid in patrol_ids}
    rows = session.execute(
        select(PatrolGrid, GridLayer.name)
        .join(GridLayer, GridLayer.id == PatrolGrid.layer_id)
        .where(PatrolGrid.patrol_id.in_(patrol_ids))
        .order_by(PatrolGrid.patrol_id, GridLayer.name, PatrolGrid.grid_code)
    ).all()
    for v, layer in rows:
        out[v.patrol_id].append({"layer": layer, "grid_code": v.grid_code, "length_m": round(v.length_m, 1),
                                 "fixes": v.fixes})  # fmt: skip
    return out


def _view(p: Patrol, visits: list[dict]) -> dict:
    return {"id": p.id, "person_id": p.person_id, "account_id": p.account_id, "started_at": p.started_at.isoformat(),
            "ended_at": p.ended_at.isoformat(), "n_fixes": p.n_fixes, "length_m": round(p.length_m, 1),
            "crs_in": p.crs_in, "grids": visits}  # fmt: skip


def _post(session: Session, caller: Caller, body: dict, crs: str | None, key: str | None) -> tuple[dict, bool]:
    settings = PatrolSettings.from_env()
    try:
        track = parse_track(body, crs, settings)
    except TrackError as exc:
        raise invalid(exc.field, exc.reason) from None
    person = _person(session, caller, body.get("person_id") if isinstance(body.get("person_id"), int) else None)
    patrol, created = store_patrol(
        session, track, settings, account_id=caller.account_id, person_id=person, idempotency_key=key
    )
    visits = _visits(session, [patrol.id])[patrol.id]
    if created and not visits:
        session.rollback()
        raise invalid("geometry", "the track visits no grid of a published plan (outside the jurisdiction?)")
    view = _view(patrol, visits) | {"dropped_fixes": track.dropped if created else None}
    session.commit()
    return view, created


@router.post("/patrols", status_code=201, summary="Upload a patrol track (GeoJSON LineString + times, or fixes)")
async def post_patrol(
    request: Request,
    crs: str | None = Query(None, description="wgs84 (default) | cgcs2000 | gcj02 | bd09 | EPSG:n"),
    caller: Caller = Depends(require_roles("collector", "operator")),
    session: Session = Depends(get_session),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise invalid("body", f"at most {MAX_BODY} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid("body", f"not valid JSON ({exc})") from None
    view, created = await run_in_threadpool(_post, session, caller, body, crs, idempotency_key)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return JSONResponse(view, status_code=201, headers=headers)


def _day(value: date | None, zone: ZoneInfo, default: datetime) -> datetime:
    return default if value is None else datetime.combine(value, time(0), zone)


@router.get("/patrols", summary="The patrol layer: tracks as a GeoJSON FeatureCollection (operators)")
def list_patrols(
    from_: date | None = Query(None, alias="from", description="first local day (default: 7 days ago)"),
    to: date | None = Query(None, description="last local day, inclusive (default: today)"),
    grid_code: str | None = None,
    person_id: int | None = None,
    limit: int = Query(500, ge=1, le=5000),
    _: Caller = Depends(require_roles("operator")),
    session: Session = Depends(get_session),
) -> Response:
    zone = ZoneInfo(CaseSettings.from_env().timezone)
    now = datetime.now(UTC)
    start = _day(from_, zone, now - timedelta(days=7))
    end = _day(to, zone, now) + (timedelta(days=1) if to else timedelta(0))
    stmt = select(Patrol, func.ST_AsGeoJSON(Patrol.geom, 7)).where(Patrol.started_at >= start, Patrol.started_at < end)
    if grid_code is not None:
        stmt = stmt.where(Patrol.id.in_(select(PatrolGrid.patrol_id).where(PatrolGrid.grid_code == grid_code)))
    if person_id is not None:
        stmt = stmt.where(Patrol.person_id == person_id)
    rows = session.execute(stmt.order_by(Patrol.started_at.desc()).limit(limit)).all()
    visits = _visits(session, [p.id for p, _ in rows])
    features = [{"type": "Feature", "id": p.id, "geometry": orjson.loads(g), "properties": _view(p, visits[p.id])}
                for p, g in rows]  # fmt: skip
    return _json({"type": "FeatureCollection", "features": features})


@router.get("/patrols/compliance", summary="Weekly patrol compliance per grid (default ≥ 3 patrols a week)")
def get_compliance(
    week: str | None = Query(None, description="ISO week 2026-W49 or any date of it (default: this week)"),
    layer: str = Query("responsibility"),
    _: Caller = Depends(require_roles("operator", "planner", "unit")),
    session: Session = Depends(get_session),
) -> Response:
    tz = CaseSettings.from_env().timezone
    try:
        monday = parse_week(week, datetime.now(ZoneInfo(tz)).date())
    except ValueError:
        raise invalid("week", "an ISO week like 2026-W49 or a date like 2026-12-03") from None
    if session.scalar(select(GridLayer.id).where(GridLayer.name == layer)) is None:
        raise invalid("layer", f"no grid layer named {layer!r}")
    return _json(weekly_compliance(session, layer, monday, tz, PatrolSettings.from_env().weekly_min))
