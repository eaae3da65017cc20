"""Open311 extension: ``POST /open311/v2/requests/{id}/satisfaction.json`` (form: ``api_key``, ``satisfaction``
1–5, optional ``comment``). GeoReport v2 has no rating call; this one follows its conventions (form body, the
reporter's ``api_key``, errors as ``[{"code", "description"}]``) and shares the rule of ``/v1/cases/{id}/satisfaction``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.db import get_session
from api.errors import InvalidInput
from api.routers.case_supervision import rate_case
from api.routers.open311 import Open311Route, reporter_form

router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


@router.post("/requests/{request_id}/satisfaction.json", summary="Open311 extension: the reporter's rating 1–5")
async def post_satisfaction(request_id: str, request: Request, session: Session = Depends(get_session)) -> list[dict]:
    fields, caller = await reporter_form(request, session, "rate requests")
    value = fields.get("satisfaction", "")
    if not request_id.isdigit() or not value.strip().isdigit():
        field = "service_request_id" if not request_id.isdigit() else "satisfaction"
        raise InvalidInput(f"{field} must be an integer", [{"field": field, "reason": "not an integer"}])
    answer = await run_in_threadpool(rate_case, session, int(request_id), caller, int(value), fields.get("comment"))
    return [{"service_request_id": request_id, "satisfaction": answer["satisfaction"]}]
