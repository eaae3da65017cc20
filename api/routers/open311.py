"""Open311 GeoReport v2 on the same cases, in JSON and XML: ``/open311/v2/services.{json|xml}``, ``services/{code}``,
``requests`` (GET and POST), ``requests/{id}`` and ``discovery`` (also at ``/open311/discovery.{json|xml}``).

Open311 clients expect their own error shape, ``[{"code": 400, "description": "..."}]`` (or ``<errors>`` in XML) with
the same HTTP status, so this router uses its own route class that converts every error (including a lost database
→ 503) to it, in the format the URL asked for; unknown paths under ``/open311`` answer the same way.
Coordinates are WGS84 (``lat``/``long``). Request views are public: coordinates rounded to ~10 m, no contact.
``POST requests`` takes ``api_key`` (a reporter or collector account), form-encoded as the spec says or as a JSON
object, and honours ``Idempotency-Key``. ``jurisdiction_id`` is optional (one jurisdiction per deployment); when sent
it must name it. ``tokens/{id}`` is not offered: a POST answers the ``service_request_id`` at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api import keys
from api.auth import Caller
from api.db import get_session
from api.errors import DB_LOST, Forbidden, GeogridError, InvalidInput, NotAuthenticated, NotFound, status_for
from api.open311_format import FORMATS, error, format_of, render
from api.routers.reports import submit_and_commit
from api.sanitise import ascii_int
from geogrid.cases import categories
from geogrid.cases.categories import CategoryError, normalize
from geogrid.cases.intake import ReportInput
from geogrid.cases.models import TERMINAL, Case
from geogrid.cases.views import PUBLIC_DECIMALS
from geogrid.store.models import Unit

MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
REPORTER_ROLES = ("reporter", "collector", "admin")
FIELD_LIMITS = {  # the same limits as POST /v1/reports (ReportIn), per Open311 field
    "description": 4000,
    "address_string": 500,
    "first_name": 50,
    "last_name": 50,
    "phone": 32,
    "email": 64,
    "service_code": 32,
    "lat": 32,
    "long": 32,
    "jurisdiction_id": 64,
    "device_id": 64,
    "account_id": 64,
}


SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00Z"
"""When this endpoint's behaviour last changed (the discovery document's ``changeset``)."""


@dataclass(frozen=True)
class Open311Settings:
    """``GEOGRID_OPEN311_*``: the jurisdiction this endpoint serves and who to contact (discovery)."""

    jurisdiction_id: str | None = None  # default: any district code of the store
    contact: str = "Ask the operator of this geogrid service"

    @classmethod
    def from_env(cls) -> Open311Settings:
        return cls(
            jurisdiction_id=os.environ.get("GEOGRID_OPEN311_JURISDICTION") or None,
            contact=os.environ.get("GEOGRID_OPEN311_CONTACT", cls.contact),
        )


def setup(app: FastAPI) -> None:
    app.state.open311 = Open311Settings.from_env()


def describe(exc: GeogridError) -> str:
    """The message, plus only those field reasons it does not already say."""
    extra = [f"{d.get('field')}: {d.get('reason')}" for d in exc.details if str(d.get("reason")) not in exc.message]
    return exc.message + (f" ({'; '.join(extra)})" if extra else "")


class Open311Route(APIRoute):
    """Answers errors in Open311's list format (JSON or XML, as the URL asks); 422 becomes 400 and 401 becomes 403."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            fmt = format_of(request.url.path)
            try:
                return await handler(request)
            except GeogridError as exc:
                return error(fmt, {422: 400, 401: 403}.get(status_for(exc), status_for(exc)), describe(exc))
            except RequestValidationError as exc:
                text_ = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
                return error(fmt, 400, text_ or "invalid request")
            except DB_LOST:
                return error(fmt, 503, "the database is unavailable; retry shortly")

        return wrapped


router = APIRouter(prefix="/open311", tags=["open311"], route_class=Open311Route)


def bad(description: str, field: str) -> InvalidInput:
    return InvalidInput(description, [{"field": field, "reason": description}])


def checked(request: Request, session: Session, fmt: str, jurisdiction_id: str | None = None) -> str:
    """The format (json or xml; anything else is not a resource: 404) after checking ``jurisdiction_id``."""
    if fmt not in FORMATS:
        raise NotFound(f"format {fmt!r} is not offered; use .json or .xml")
    wanted = jurisdiction_id if jurisdiction_id is not None else request.query_params.get("jurisdiction_id")
    if wanted:
        configured = request.app.state.open311.jurisdiction_id
        known = (
            {configured}
            if configured
            else set(session.scalars(text("SELECT code FROM admin_area WHERE level = 'district'")))
        )
        if wanted not in known:
            raise NotFound(f"jurisdiction_id {wanted!r} not found; this endpoint serves {', '.join(sorted(known))}")
    return fmt


def service_list() -> list[dict]:
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


@router.get("/v2/services.{fmt}", summary="Open311: the service (category) list")
def services(fmt: str, request: Request, session: Session = Depends(get_session)) -> Response:
    return render(checked(request, session, fmt), service_list(), "services", "service")


@router.get("/v2/services/{service_code}.{fmt}", summary="Open311: a service definition (no extra attributes)")
def service_definition(service_code: str, fmt: str, request: Request, session: Session = Depends(get_session)):
    fmt = checked(request, session, fmt)
    try:
        code = normalize(service_code)
    except CategoryError:
        raise NotFound(f"service_code {service_code!r} not found") from None
    return render(fmt, {"service_code": code, "attributes": []}, "service_definition", None)


@router.get("/v2/discovery.{fmt}", summary="Open311: service discovery")
@router.get("/discovery.{fmt}", summary="Open311: service discovery")
def discovery(fmt: str, request: Request, session: Session = Depends(get_session)) -> Response:
    fmt = checked(request, session, fmt)
    base = str(request.base_url).rstrip("/")
    doc = {
        "changeset": CHANGESET,
        "contact": request.app.state.open311.contact,
        "key_service": "API keys are issued by the operator (geogrid user add NAME --role reporter)",
        "endpoints": [
            {
                "specification": SPEC,
                "url": f"{base}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(fmt, doc, "discovery", None)


def _request_view(case: Case, units: dict[int, str]) -> dict:
    info = categories.describe(case.category)
    return {
        "service_request_id": str(case.id),
        "status": "closed" if case.status in TERMINAL else "open",
        "status_notes": case.close_type if case.status == "closed" else case.status,
        "service_name": info["name"] or info["class_name"],
        "service_code": case.category,
        "description": case.public_summary,  # the reporter's own text is never public (issue 10)
        "agency_responsible": units.get(case.unit_id) if case.unit_id else None,
        "service_notice": None,
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.due_at.isoformat() if case.due_at else None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": round(case.lat, PUBLIC_DECIMALS),
        "long": round(case.lon, PUBLIC_DECIMALS),
        "media_url": case.media_url,
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


@router.get("/v2/requests.{fmt}", summary="Open311: query service requests")
def list_requests(
    fmt: str,
    request: Request,
    service_request_id: str | None = Query(None),
    service_code: str | None = Query(None),
    start_date: str | None = Query(None),
    end_date: str | None = Query(None),
    status: str | None = Query(None, description="open, closed or both comma-separated"),
    session: Session = Depends(get_session),
) -> Response:
    fmt = checked(request, session, fmt)
    return render(
        fmt,
        _find(session, service_request_id, service_code, start_date, end_date, status),
        "service_requests",
        "request",
    )


def _find(
    session: Session,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
) -> list[dict]:
    stmt = select(Case).order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS)
    if service_request_id:
        ids = [ascii_int(x) for x in service_request_id.split(",") if x.strip()]
        if None in ids or len(ids) > MAX_RESULTS:
            raise bad("service_request_id must be comma-separated integers (at most 1000)", "service_request_id")
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


@router.get("/v2/requests/{request_id}.{fmt}", summary="Open311: one service request")
def get_request(request_id: str, fmt: str, request: Request, session: Session = Depends(get_session)) -> Response:
    fmt = checked(request, session, fmt)
    case_id = ascii_int(request_id)
    case = session.get(Case, case_id) if case_id is not None else None
    if case is None:
        raise NotFound(f"service request {request_id} not found")
    return render(fmt, _views(session, [case]), "service_requests", "request")


async def read_fields(request: Request) -> dict[str, str]:
    """The request's fields, form-encoded (as the spec says) or as a flat JSON object."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        form = await request.form(max_files=0, max_fields=64)
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        data = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad(f"the body is not valid JSON ({exc})", "body") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | int | float) for v in data.values()):
        raise bad("a JSON body must be an object of strings and numbers (the spec's form fields)", "body")
    return {k: str(v) for k, v in data.items()}


def media_url(fields: dict[str, str]) -> str | None:
    url = fields.get("media_url") or None
    if url is not None and (
        not url.startswith(("http://", "https://")) or len(url) > 2000 or any(c.isspace() for c in url)
    ):
        raise bad("media_url must be an http(s) URL of at most 2000 characters", "media_url")
    return url


async def reporter(request: Request, session: Session, fields: dict[str, str], what: str) -> Caller:
    """The reporting account named by ``api_key`` (or ``X-API-Key``), checked for a reporter's role."""
    key = fields.get("api_key") or request.headers.get("x-api-key")
    if not key:
        raise NotAuthenticated("api_key is required", [{"field": "api_key", "reason": "missing"}])
    account = await keys.lookup(key)
    if account is None:
        raise NotAuthenticated("api_key is not valid", [{"field": "api_key", "reason": "not recognised"}])
    if account.role not in REPORTER_ROLES:
        raise Forbidden(f"role {account.role!r} may not {what}")
    return account


@router.post("/v2/requests.{fmt}", status_code=201, summary="Open311: create a service request")
async def create_request(fmt: str, request: Request, session: Session = Depends(get_session)) -> Response:
    fields = await read_fields(request)
    fmt = await run_in_threadpool(checked, request, session, fmt, fields.get("jurisdiction_id"))
    caller = await reporter(request, session, fields, "submit requests")
    for name, most in FIELD_LIMITS.items():
        if len(fields.get(name) or "") > most:
            raise bad(f"{name} is longer than {most} characters", name)
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
        media_url=media_url(fields),
    )
    key_header = request.headers.get("idempotency-key")
    index = request.app.state.locate_index  # the worker's one index, shared with /v1/locate and /v1/reports
    view, _ = await run_in_threadpool(submit_and_commit, session, report, caller, key_header, [], index)
    unit = (view.get("unit") or {}).get("name")
    notice = f"routed to {unit}" if unit else "received"
    if view.get("possible_duplicate"):
        notice += f"; possibly the same problem as request {view['possible_duplicate']['id']}"
    body = [{"service_request_id": str(view["id"]), "service_notice": notice, "account_id": None}]
    return render(fmt, body, "service_requests", "request", status=201)


@router.get("/{path:path}", include_in_schema=False)
def unknown(path: str) -> Response:
    """Anything else under /open311 is a 404 in Open311's error format (JSON, or XML for a .xml path)."""
    raise NotFound(f"no Open311 resource /open311/{path}; see /open311/v2/discovery.json")
