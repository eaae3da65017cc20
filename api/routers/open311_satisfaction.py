"""Open311 extension: ``POST /open311/v2/requests/{id}/satisfaction.json|xml`` (fields ``api_key``,
``satisfaction`` 1–5, optional ``comment``; form-encoded or JSON like every Open311 POST here). GeoReport v2 has no
rating call; this one follows its conventions (the reporter's ``api_key``, errors as ``[{"code", "description"}]``)
and shares the rule of ``/v1/cases/{id}/satisfaction``: the reporting account, once, on a closed case.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.db import get_session
from api.open311_format import render
from api.routers.case_supervision import rate_case
from api.routers.open311 import Open311Route, bad, checked, read_fields, reporter
from api.sanitise import ascii_int

router = APIRouter(prefix="/open311", tags=["open311"], route_class=Open311Route)


@router.post("/v2/requests/{request_id}/satisfaction.{fmt}", summary="Open311 extension: the reporter's rating 1–5")
async def post_satisfaction(
    request_id: str, fmt: str, request: Request, session: Session = Depends(get_session)
) -> Response:
    fields = await read_fields(request)
    fmt = await run_in_threadpool(checked, request, session, fmt, fields.get("jurisdiction_id"))
    caller = await reporter(request, session, fields, "rate requests")
    value = fields.get("satisfaction", "").strip()
    case_id, score = ascii_int(request_id), ascii_int(value, 9)
    if case_id is None:
        raise bad("service_request_id must be an integer", "service_request_id")
    if score is None:
        raise bad("satisfaction must be an integer 1–5", "satisfaction")
    answer = await run_in_threadpool(rate_case, session, case_id, caller, score, fields.get("comment"))
    body = [{"service_request_id": request_id, "satisfaction": answer["satisfaction"]}]
    return render(fmt, body, "service_requests", "request")
