"""Open311 GeoReport v2 on the same cases: ``/open311/v2/services.json``, ``requests.json``, ``requests/{id}.json``.

Open311 clients expect their own error shape, ``[{"code": 400, "description": "..."}]`` with the same HTTP status,
so this router uses its own route class that converts every error (including a lost database → 503) to it.
Coordinates are WGS84 (``lat``/``long``). Request views are public: coordinates rounded to ~10 m, no contact.
``POST requests.json`` takes ``api_key`` (a reporter or collector account) and honours ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Caller
from api.db import get_session
from api.errors import DB_LOST, Forbidden, GeogridError, InvalidInput, NotAuthenticated, NotFound, status_for
from api.routers.reports import submit_and_commit
from geogrid.cases import categories
from geogrid.cases.categories import CategoryError, normalize
from geogrid.cases.intake import ReportInput
from geogrid.cases.models import TERMINAL, Case
from geogrid.cases.views import PUBLIC_DECIMALS
from geogrid.store.accounts import account_for_key
from geogrid.store.models import Unit

MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
REPORTER_ROLES = ("reporter", "collector", "admin")


def open311_error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


class Open311Route(APIRoute):
    """Answers errors in Open311's list format; 422 becomes 400 and 401 becomes 403 as the spec names them."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except GeogridError as exc:
                status = {422: 400, 401: 403}.get(status_for(exc), status_for(exc))
                reasons = "; ".join(f"{d.get('field')}: {d.get('reason')}" for d in exc.details)
                return open311_error(status, exc.message + (f" ({reasons})" if reasons else ""))
            except RequestValidationError as exc:
                text = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
                return open311_error(400, text or "invalid request")
            except DB_LOST:
                return open311_error(503, "the database is unavailable; retry shortly")

        return wrapped


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def bad(description: str, field: str) -> InvalidInput:
    return InvalidInput(description, [{"field": field, "reason": description}])


@router.get("/services.json", summary="Open311: the service (category) list")
def services() -> list[dict]:
    return [
        {
            "service_code": item["code"],
            "service_name": item["name"],
            "description": f"{item['kind_name']} / {item['class_name']} / {item['name']}",
            "metadata": False,
            "type": "realtime",
            "keywords": f"{item['kind']},{item['kind_name']},{item['class_name']}",
            "group": f"{item['kind_name']}·{item['class_name']}",
        }
        for item in categories.catalogue()
    ]


def _request_view(case: Case, units: dict[int, str]) -> dict:
    info = categories.describe(case.category)
    return {
        "service_request_id": str(case.id),
        "status": "closed" if case.status in TERMINAL else "open",
        "status_notes": case.close_type if case.status == "closed" else case.status,
        "service_name": info["name"] or info["class_name"],
        "service_code": case.category,
        "description": case.description,
        "agency_responsible": units.get(case.unit_id) if case.unit_id else None,
        "service_notice": None,
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.due_at.isoformat() if case.due_at else None,
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": round(case.lat, PUBLIC_DECIMALS),
        "long": round(case.lon, PUBLIC_DECIMALS),
        "media_url": None,
    }


def _views(session: Session, cases: list[Case]) -> list[dict]:
    ids = {c.unit_id for c in cases if c.unit_id}
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}
    return [_request_view(c, units) for c in cases]


def _parse_time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"{field} {value!r} is not a W3C/ISO 8601 date-time", field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/requests.json", summary="Open311: query service requests")
def list_requests(
    service_request_id: str | None = Query(None),
    service_code: str | None = Query(None),
    start_date: str | None = Query(None),
    end_date: str | None = Query(None),
    status: str | None = Query(None, description="open, closed or both comma-separated"),
    session: Session = Depends(get_session),
) -> list[dict]:
    stmt = select(Case).order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS)
    if service_request_id:
        try:
            ids = [int(x) for x in service_request_id.split(",") if x.strip()]
        except ValueError:
            raise bad("service_request_id must be comma-separated integers", "service_request_id") from None
        return _views(session, list(session.scalars(stmt.where(Case.id.in_(ids)))))
    if service_code:
        try:
            stmt = stmt.where(Case.category == normalize(service_code))
        except CategoryError as exc:
            raise bad(str(exc), "service_code") from None
    end = _parse_time(end_date, "end_date") or datetime.now(UTC)
    start = _parse_time(start_date, "start_date") or end - DEFAULT_WINDOW
    if start > end:
        raise bad("start_date is after end_date", "start_date")
    stmt = stmt.where(Case.created_at >= start, Case.created_at <= end)
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise bad("status must be open, closed or open,closed", "status")
        if wanted == {"open"}:
            stmt = stmt.where(Case.status.not_in(TERMINAL))
        elif wanted == {"closed"}:
            stmt = stmt.where(Case.status.in_(TERMINAL))
    return _views(session, list(session.scalars(stmt)))


@router.get("/requests/{request_id}.json", summary="Open311: one service request")
def get_request(request_id: str, session: Session = Depends(get_session)) -> list[dict]:
    case = session.get(Case, int(request_id)) if request_id.isdigit() else None
    if case is None:
        raise NotFound(f"service request {request_id} not found")
    return _views(session, [case])


async def reporter_form(request: Request, session: Session, what: str) -> tuple[dict[str, str], Caller]:
    """The form fields and the reporting account named by ``api_key`` (or ``X-API-Key``), checked for its role."""
    form = await request.form(max_files=0, max_fields=64)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    key = fields.get("api_key") or request.headers.get("x-api-key")
    if not key:
        raise NotAuthenticated("api_key is required", [{"field": "api_key", "reason": "missing"}])
    account = await run_in_threadpool(account_for_key, session, key)
    if account is None:
        raise NotAuthenticated("api_key is not valid", [{"field": "api_key", "reason": "not recognised"}])
    if account.role not in REPORTER_ROLES:
        raise Forbidden(f"role {account.role!r} may not {what}")
    return fields, Caller(account.id, account.name, account.role, account.unit_id)


@router.post("/requests.json", status_code=201, summary="Open311: create a service request")
async def create_request(request: Request, session: Session = Depends(get_session)) -> JSONResponse:
    fields, caller = await reporter_form(request, session, "submit requests")
    for name in ("service_code", "lat", "long"):
        if not fields.get(name):
            hint = " (address_string alone is not geocoded; send lat and long)" if name != "service_code" else ""
            raise bad(f"{name} is required{hint}", name)
    try:
        lat, lon = float(fields["lat"]), float(fields["long"])
    except ValueError:
        raise bad("lat and long must be decimal degrees (WGS84)", "lat") from None
    info_name = None
    try:
        info_name = categories.describe(normalize(fields["service_code"]))["name"]
    except CategoryError as exc:
        raise bad(str(exc), "service_code") from None
    person = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p) or None
    contact = ", ".join(p for p in (fields.get("phone"), fields.get("email")) if p) or None
    report = ReportInput(
        lon=lon,
        lat=lat,
        crs="wgs84",
        category=fields["service_code"],
        description=(fields.get("description") or info_name or fields["service_code"])[:4000],
        channel="collector" if caller.role == "collector" else "public",
        address=fields.get("address_string"),
        reporter_name=person,
        contact=contact,
    )
    key_header = request.headers.get("idempotency-key")
    view, _ = await run_in_threadpool(submit_and_commit, session, report, caller, key_header, [])
    unit = (view.get("unit") or {}).get("name")
    notice = f"routed to {unit}" if unit else "received"
    if view.get("possible_duplicate"):
        notice += f"; possibly the same problem as request {view['possible_duplicate']['id']}"
    body = [{"service_request_id": str(view["id"]), "service_notice": notice, "account_id": None}]
    return JSONResponse(body, status_code=201)
