"""``POST /v1/reports``: a citizen or grid worker reports a problem; it becomes a routed case, exactly once.

JSON or multipart (form fields + ``photos`` files, JPEG/PNG by magic bytes). With an ``Idempotency-Key`` header
a retry answers 201 with the same case (header ``Idempotent-Replayed: true``), never a second case. The case is
committed before the 201 leaves. A lost database connection answers 503 with ``Retry-After`` (see ``setup``), so
clients retry with the same key instead of giving up or double-posting.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Caller, require_roles
from api.db import get_session
from api.errors import Conflict, Forbidden, InvalidInput, PayloadTooLarge
from api.routers.locate import locate_index
from geogrid.cases import media
from geogrid.cases.intake import IntakeError, KeyReused, ReportInput, submit_report
from geogrid.cases.settings import CaseSettings
from geogrid.cases.views import audience_for, case_view
from geogrid.cases.workflow import (
    Actor,
    BadParameter,
    CalendarNotReady,
    IllegalTransition,
    NotReady,
    RoleNotAllowed,
    WorkflowError,
)
from geogrid.routing.index import IndexService

router = APIRouter(tags=["reports"])
PHOTO_FIELDS = ("photos", "photo")
MAX_FIELDS_BYTES = 64 * 1024  # a JSON report or the non-file part of a form


class ReportIn(BaseModel):
    """A report as the phone sends it; coordinates in ``crs`` (wgs84, cgcs2000, gcj02, bd09, EPSG:n)."""

    model_config = ConfigDict(extra="forbid")

    lon: float
    lat: float
    crs: str = Field("wgs84", max_length=32)
    category: str = Field(..., max_length=32, description="event:CCSS / component:CCSS (事件/部件 accepted)")
    description: str = Field(..., min_length=1, max_length=4000)
    urgency: Literal["normal", "urgent"] = "normal"
    channel: Literal["collector", "public", "hotline", "video", "higher"] | None = None
    address: str | None = Field(None, max_length=500)
    reporter_name: str | None = Field(None, max_length=100)
    contact: str | None = Field(None, max_length=100)


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.account_id, caller.role, caller.unit_id)


def invalid(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field}: {reason}", [{"field": field, "reason": reason}])


def validation_details(err: ValidationError) -> list[dict]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "body", "reason": e["msg"]} for e in err.errors()]


async def read_body(
    request: Request, settings: CaseSettings, photo_fields: tuple[str, ...] = PHOTO_FIELDS
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """Fields and raw photo bytes (named ``field[i]``) from a JSON or multipart body; sizes checked while reading."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    declared = request.headers.get("content-length", "")
    limit = settings.max_photos * settings.max_photo_bytes + MAX_FIELDS_BYTES
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes", [{"field": "body", "reason": "too large"}])
    if ctype in ("", "application/json"):
        raw = await request.body()
        if len(raw) > MAX_FIELDS_BYTES:
            detail = [{"field": "body", "reason": "too large"}]
            raise PayloadTooLarge(f"JSON body over {MAX_FIELDS_BYTES} bytes", detail)
        if not raw:
            return {}, []
        try:
            fields = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise invalid("body", f"not valid JSON ({exc})") from None
        if not isinstance(fields, dict):
            raise invalid("body", "must be a JSON object")
        return fields, []
    if ctype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise invalid("Content-Type", f"{ctype!r} not accepted; use application/json or multipart/form-data")
    try:
        form = await request.form(max_files=settings.max_photos, max_fields=64)
    except StarletteHTTPException as exc:  # too many files/fields, malformed multipart
        raise invalid("body", str(exc.detail)) from None
    fields: dict[str, Any] = {}
    photos: list[tuple[str, bytes]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in photo_fields:
                raise invalid(key, f"unexpected file field; photos go in {' or '.join(map(repr, photo_fields))}")
            data = await value.read(settings.max_photo_bytes + 1)
            photos.append((f"{key}[{len(photos)}]", data))
        else:
            fields[key] = value
    return fields, photos


def validate_photos(blobs: list[tuple[str, bytes]], settings: CaseSettings) -> list[media.Photo]:
    if len(blobs) > settings.max_photos:
        raise invalid("photos", f"at most {settings.max_photos} photos")
    out = []
    for field, data in blobs:
        try:
            out.append(media.validate(data, field, settings))
        except media.PhotoError as exc:
            cls = PayloadTooLarge if exc.too_large else InvalidInput
            raise cls(str(exc), [{"field": exc.field, "reason": exc.reason}]) from None
    return out


def workflow_error(exc: WorkflowError) -> Exception:
    details = [{"field": exc.field, "reason": exc.reason}]
    if isinstance(exc, IllegalTransition):
        return Conflict(exc.message, details, **exc.extra)
    if isinstance(exc, RoleNotAllowed):
        return Forbidden(exc.message, details)
    if isinstance(exc, BadParameter):
        return InvalidInput(exc.message, details)
    if isinstance(exc, NotReady | CalendarNotReady):
        return Conflict(exc.message, details)
    return InvalidInput(exc.message, details)


def parse_report(fields: dict[str, Any]) -> ReportInput:
    try:
        data = ReportIn.model_validate(fields)
    except ValidationError as err:
        raise InvalidInput("report did not validate", validation_details(err)) from None
    return ReportInput(**data.model_dump())


def submit_and_commit(
    session: Session,
    report: ReportInput,
    caller: Caller,
    key: str | None,
    photos: list[media.Photo],
    index: IndexService | None = None,
) -> tuple[dict, bool]:
    """Store (or find) the case, build the caller's view, commit; the view is only returned once committed.

    A report without photos is written by one autocommitted statement when the session has not begun (no key
    lookup on it): with the worker's index and rulebook that is the whole of intake's database work."""
    try:
        result = submit_report(
            session, report, actor_of(caller), idempotency_key=key, photos=photos, index=index, autocommit=True
        )
    except IntakeError as exc:
        raise invalid(exc.field, exc.reason) from None
    except KeyReused as exc:
        raise Conflict(
            str(exc), [{"field": "Idempotency-Key", "reason": "reused with a different request"}], case_id=exc.case_id
        ) from None
    fresh = result.created and not photos
    view = case_view(session, result.case, audience_for(caller.role), history=False, fresh=fresh)
    if result.duplicate_of is not None:
        dup = result.duplicate_of
        view["possible_duplicate"] = {"id": dup.id, "status": dup.status, "category": dup.category}
    session.commit()
    return view, result.created


_MULTIPART = {
    "type": "object",
    "properties": {
        **ReportIn.model_json_schema()["properties"],
        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "JPEG or PNG"},
    },
    "required": ["lon", "lat", "category", "description"],
}
REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ReportIn.model_json_schema()},
            "multipart/form-data": {"schema": _MULTIPART},
        },
    }
}


@router.post(
    "/v1/reports",
    status_code=201,
    summary="Report a problem (JSON or multipart with photos)",
    openapi_extra=REPORT_BODY,
)
async def post_report(
    request: Request,
    caller: Caller = Depends(require_roles("reporter", "collector")),
    session: Session = Depends(get_session),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
) -> JSONResponse:
    settings = CaseSettings.from_env()
    fields, blobs = await read_body(request, settings)
    report = parse_report(fields)
    photos = validate_photos(blobs, settings)
    index = locate_index(request)
    view, created = await run_in_threadpool(submit_and_commit, session, report, caller, idempotency_key, photos, index)
    headers = {"Location": f"/v1/cases/{view['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(view, status_code=201, headers=headers)
