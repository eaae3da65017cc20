"""Supervision endpoints beside the workflow: on-the-spot handling, the reporter's satisfaction, filings upward.

- ``POST /v1/reports/on-the-spot`` (collector): multipart report fields with ``photos_before`` and ``photos_after``
  files; the case is reported and closed in one transaction (``Idempotency-Key`` honoured) and reported to the
  street centre.
- ``POST /v1/cases/{id}/satisfaction`` ``{"satisfaction": 1–5, "comment"}``: the reporter rates a closed case once.
- ``GET /v1/filings`` and ``POST /v1/filings/{id}/acknowledge``: what street centres filed with the district (备案)
  and on-the-spot handlings reported to the street (报备), for the receiving centre.

This module's name sorts before ``cases`` on purpose: the app includes routers in name order, and
``/v1/cases/{id}/satisfaction`` must be matched before the generic ``/v1/cases/{id}/{action}``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Caller, require_roles
from api.db import get_session
from api.errors import Conflict, NotFound
from api.routers.reports import actor_of, invalid, parse_report, read_body, validate_photos, workflow_error
from api.scoping import scope_of
from geogrid.assessment.satisfaction import rate
from geogrid.cases.intake import IntakeError, KeyReused
from geogrid.cases.models import Case
from geogrid.cases.settings import CaseSettings
from geogrid.cases.views import audience_for, case_view
from geogrid.cases.workflow import WorkflowError
from geogrid.supervision.filing import acknowledge, filings_query
from geogrid.supervision.models import FILING_KINDS, CaseFiling
from geogrid.supervision.onspot import handle_on_the_spot
from geogrid.supervision.scope import area_ids_within

router = APIRouter(tags=["supervision"])
BEFORE, AFTER = "photos_before", "photos_after"


def _on_the_spot(session: Session, caller: Caller, fields: dict, blobs: list, key: str | None) -> tuple[dict, bool]:
    settings = CaseSettings.from_env()
    report = parse_report(fields)
    before = validate_photos([b for b in blobs if b[0].startswith(BEFORE)], settings)
    after = validate_photos([b for b in blobs if b[0].startswith(AFTER)], settings)
    try:
        result = handle_on_the_spot(
            session, report, actor_of(caller), before=before, after=after, idempotency_key=key, settings=settings
        )
    except IntakeError as exc:
        raise invalid(exc.field, exc.reason) from None
    except KeyReused as exc:
        detail = [{"field": "Idempotency-Key", "reason": "reused with a different request"}]
        raise Conflict(str(exc), detail, case_id=exc.case_id) from None
    except WorkflowError as exc:
        raise workflow_error(exc) from None
    view = case_view(session, result.case, audience_for(caller.role), history=True)
    session.commit()
    return view, result.created


@router.post("/v1/reports/on-the-spot", status_code=201, summary="Report and close a problem handled on the spot")
async def post_on_the_spot(
    request: Request,
    caller: Caller = Depends(require_roles("collector")),
    session: Session = Depends(get_session),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
) -> JSONResponse:
    settings = CaseSettings.from_env()
    fields, blobs = await read_body(request, settings, photo_fields=(BEFORE, AFTER))
    view, created = await run_in_threadpool(_on_the_spot, session, caller, fields, blobs, idempotency_key)
    headers = {"Location": f"/v1/cases/{view['id']}"} | ({} if created else {"Idempotent-Replayed": "true"})
    return JSONResponse(view, status_code=201, headers=headers)


class SatisfactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: int = Field(..., ge=1, le=5, description="1 very dissatisfied … 5 very satisfied")
    comment: str | None = Field(None, max_length=2000)


def rate_case(session: Session, case_id: int, caller: Caller, value: int, comment: str | None) -> dict:
    """Shared by the API and Open311: lock, rate, commit, and answer the rating."""
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None:
        raise NotFound(f"case {case_id} not found", [{"field": "case_id", "reason": "no such case"}])
    try:
        rate(session, case, actor_of(caller), value, comment)
    except WorkflowError as exc:
        raise workflow_error(exc) from None
    answer = {"case_id": case.id, "satisfaction": case.satisfaction, "rated_at": case.satisfaction_at.isoformat()}
    session.commit()
    return answer


@router.post("/v1/cases/{case_id}/satisfaction", summary="The reporter rates a closed case (1–5), once")
def post_satisfaction(
    case_id: int,
    body: SatisfactionIn,
    caller: Caller = Depends(require_roles("reporter", "collector")),
    session: Session = Depends(get_session),
) -> dict:
    return rate_case(session, case_id, caller, body.satisfaction, body.comment)


def _filing(f: CaseFiling) -> dict:
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {"id": f.id, "case_id": f.case_id, "kind": f.kind, "from_area_id": f.from_area_id,
            "to_area_id": f.to_area_id, "filed_at": iso(f.filed_at), "summary": f.summary,
            "acknowledged_at": iso(f.acknowledged_at), "acknowledged_by": f.acknowledged_by}  # fmt: skip


@router.get("/v1/filings", summary="Filings received by the caller's centre (all of them for the city centre)")
def list_filings(
    kind: str | None = Query(None, description=f"one of {', '.join(FILING_KINDS)}"),
    pending: bool | None = Query(None, description="true: not yet acknowledged"),
    limit: int = Query(100, ge=1, le=1000),
    caller: Caller = Depends(require_roles("operator")),
    session: Session = Depends(get_session),
) -> dict:
    if kind is not None and kind not in FILING_KINDS:
        raise invalid("kind", f"one of {list(FILING_KINDS)}")
    areas = area_ids_within(session, scope_of(session, caller))
    rows = session.scalars(filings_query(areas, kind, pending).limit(limit))
    return {"filings": [_filing(f) for f in rows]}


@router.post("/v1/filings/{filing_id}/acknowledge", summary="The receiving centre acknowledges a filing")
def post_acknowledge(
    filing_id: int, caller: Caller = Depends(require_roles("operator")), session: Session = Depends(get_session)
) -> dict:
    filing = session.get(CaseFiling, filing_id, with_for_update=True)
    areas = area_ids_within(session, scope_of(session, caller))
    if filing is None or (areas is not None and filing.to_area_id not in areas):
        raise NotFound(f"no filing {filing_id} for your centre", [{"field": "filing_id", "reason": "not found"}])
    view = _filing(acknowledge(session, filing, caller.account_id, datetime.now(UTC)))
    session.commit()
    return view
