"""Case views and workflow actions: ``GET /v1/cases[/{id}]``, ``POST /v1/cases/{id}/{action}``.

Actions (operator, unit, collector roles; see ``geogrid.cases.workflow.TRANSITIONS``): accept, reject, verify, file,
dispatch (``co_unit_ids`` for a joint case), handle, feedback, co-feedback, check (multipart with a ``photo``),
close, rework, extension-request, extension-approve, extension-deny, return, park, unpark, report-up (with a
``note``: the reason). Operators of a district or street centre see and act only inside it (``api.scoping``).
An action not allowed from the case's state answers 409 with ``allowed`` listing what is. Views follow
``geogrid.cases.views``: contact for operators only, public coordinates rounded to ~10 m.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Caller, current_caller, require_roles
from api.db import get_session
from api.errors import InvalidInput, NotFound
from api.routers.reports import actor_of, invalid, read_body, validate_photos, validation_details, workflow_error
from api.scoping import ensure_actionable, ensure_visible, scope_of
from geogrid.cases import media
from geogrid.cases.intake import attach_photos
from geogrid.cases.models import STATUSES, Case, CasePhoto
from geogrid.cases.settings import CaseSettings
from geogrid.cases.views import audience_for, case_view
from geogrid.cases.visibility import may_see, role_condition
from geogrid.cases.workflow import ACTIONS, WorkflowError, apply
from geogrid.supervision.scope import case_condition

router = APIRouter(tags=["cases"])
MAX_ID = 2**31 - 1
MAX_OFFSET = 2**53
CASE_ID = Path(..., ge=1, le=MAX_ID, description="case id")
PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


class ActionIn(BaseModel):
    """Parameters of a workflow action; each action reads only the ones it needs."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000)
    unit_id: int | None = Field(None, description="dispatch: the unit (default: the routed unit)")
    close_type: Literal["normal", "overdue", "error", "special"] | None = None
    value: float | None = Field(None, description="extension-request: how much more time")
    unit: Literal["hours", "days"] = "days"
    co_unit_ids: list[int] | None = Field(None, description="dispatch: co-handling units of a joint case")


def _load(session: Session, case_id: int, lock: bool = False) -> Case:
    stmt = select(Case).where(Case.id == case_id)
    case = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if case is None:
        raise NotFound(f"case {case_id} not found", [{"field": "case_id", "reason": "no such case"}])
    return case


def _visible(session: Session, caller: Caller, case_id: int) -> Case:
    """The case if the caller's centre and role may see it (``geogrid.cases.visibility``), else 404."""
    case = _load(session, case_id)
    ensure_visible(scope_of(session, caller), case)
    if not may_see(session, caller.role, caller.account_id, caller.unit_id, case):
        detail = [{"field": "case_id", "reason": f"not among the cases role {caller.role!r} sees"}]
        raise NotFound(f"case {case_id} not found among yours", detail)
    return case


@router.get("/v1/cases/{case_id}", summary="One case with its history (view depends on the caller's role)")
def get_case(
    case_id: int = CASE_ID, caller: Caller = Depends(current_caller), session: Session = Depends(get_session)
) -> dict:
    return case_view(session, _visible(session, caller, case_id), audience_for(caller.role))


class SummaryIn(BaseModel):
    """The text the public may read about a case, written or approved by an operator (None withdraws it)."""

    model_config = ConfigDict(extra="forbid")

    public_summary: str | None = Field(..., max_length=500)


@router.put("/v1/cases/{case_id}/public-summary", summary="Approve the public summary of a case (operators)")
def put_public_summary(
    body: SummaryIn,
    case_id: int = CASE_ID,
    caller: Caller = Depends(require_roles("operator")),
    session: Session = Depends(get_session),
) -> dict:
    case = _visible(session, caller, case_id)
    summary = (body.public_summary or "").strip() or None
    case.public_summary = summary
    session.flush()
    return case_view(session, case, audience_for(caller.role), history=False)


@router.get("/v1/cases", summary="List cases, newest first")
def list_cases(
    status: str | None = Query(None, description=f"one of {', '.join(STATUSES)}"),
    unit_id: int | None = None,
    category: str | None = None,
    overdue: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    caller: Caller = Depends(current_caller),
    session: Session = Depends(get_session),
) -> dict:
    seen = role_condition(caller.role, caller.account_id, caller.unit_id)
    stmt = select(Case).where(case_condition(scope_of(session, caller)), seen).order_by(Case.id.desc())
    stmt = stmt.limit(limit).offset(offset)
    if status is not None:
        if status not in STATUSES:
            raise invalid("status", f"one of {list(STATUSES)}")
        stmt = stmt.where(Case.status == status)
    if unit_id is not None:
        stmt = stmt.where(Case.unit_id == unit_id)
    if category is not None:
        stmt = stmt.where(Case.category == category)
    if overdue is not None:
        stmt = stmt.where(Case.overdue.is_(overdue))
    audience = audience_for(caller.role)
    return {"cases": [case_view(session, c, audience, history=False) for c in session.scalars(stmt)]}


@router.get("/v1/cases/{case_id}/photos/{photo_id}", summary="A photo of a case (whoever sees the case in full)")
def get_photo(
    case_id: int = CASE_ID,
    photo_id: int = Path(..., ge=1, le=MAX_ID),
    caller: Caller = Depends(require_roles("operator", "unit", "collector")),
    session: Session = Depends(get_session),
) -> FileResponse:
    _visible(session, caller, case_id)  # photos follow the case's view: not public, only for those who see it
    photo = session.get(CasePhoto, photo_id)
    if photo is None or photo.case_id != case_id:
        detail = [{"field": "photo_id", "reason": "no such photo"}]
        raise NotFound(f"photo {photo_id} of case {case_id} not found", detail)
    path = media.path_of(photo.path)
    if not path.is_file():
        raise NotFound("photo file is missing from the media directory", [{"field": "photo_id", "reason": "file gone"}])
    return FileResponse(path, media_type=photo.content_type, headers=PHOTO_HEADERS)


def _act(
    session: Session, case_id: int, action: str, caller: Caller, params: ActionIn, photos: list[media.Photo]
) -> dict:
    case = _load(session, case_id, lock=True)
    ensure_actionable(scope_of(session, caller), case)
    payload = params.model_dump(exclude_none=True)
    payload["photos"] = len(photos)
    try:
        event = apply(session, case, action, actor_of(caller), note=params.note, params=payload)
    except WorkflowError as exc:
        raise workflow_error(exc) from None
    if photos:
        attach_photos(session, case.id, photos, "check" if action == "check" else "report", event.id)
    view = case_view(session, case, audience_for(caller.role))
    session.commit()
    return view


ACTION_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": ActionIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **ActionIn.model_json_schema()["properties"],
                        "photo": {"type": "string", "format": "binary", "description": "check: JPEG or PNG"},
                    },
                }
            },
        },
    }
}


@router.post(
    "/v1/cases/{case_id}/{action}",
    summary="Take a workflow action (JSON, or multipart with a photo)",
    openapi_extra=ACTION_BODY,
)
async def act(
    action: str,
    request: Request,
    case_id: int = CASE_ID,
    caller: Caller = Depends(require_roles("operator", "unit", "collector")),
    session: Session = Depends(get_session),
) -> dict:
    name = action.replace("-", "_")
    if name not in ACTIONS:
        raise invalid("action", f"unknown action; one of {[a.replace('_', '-') for a in ACTIONS]}")
    if name == "close_on_spot":
        raise invalid("action", "on-the-spot handling is one request with its photos: POST /v1/reports/on-the-spot")
    settings = CaseSettings.from_env()
    fields, blobs = await read_body(request, settings)
    try:
        params = ActionIn.model_validate(fields)
    except ValidationError as err:
        raise InvalidInput("action parameters did not validate", validation_details(err)) from None
    photos = validate_photos(blobs, settings)
    return await run_in_threadpool(_act, session, case_id, name, caller, params, photos)
