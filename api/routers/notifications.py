"""Webhooks and the notification outbox: ``POST/GET/DELETE /v1/webhooks``, ``GET /v1/notifications``.

Events (``case.assigned``, ``case.warning``, ``case.overdue``, ``case.escalated``, ``case.returned``,
``case.closed``) are written to the outbox in the same transaction as the case change and posted to every active
webhook by the delivery worker (``geogrid notify run``, or a thread in each API worker with
``GEOGRID_NOTIFY_WORKER=1``): JSON body signed in ``X-Geogrid-Signature: sha256=<hex HMAC-SHA256>``, the message id
in the body (``id``) and in ``X-Geogrid-Event-Id`` for de-duplication, retries with exponential backoff, then the
dead-letter list (``GET /v1/notifications?status=dead``; ``POST /v1/notifications/deliveries/{id}/retry``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Caller, require_roles
from api.db import get_session
from api.errors import Conflict, NotFound
from api.routers.reports import invalid
from api.settings import DatabaseSettings
from geogrid.notify.models import DELIVERY_STATUSES, Delivery, Notification, Webhook
from geogrid.notify.outbox import KINDS, message
from geogrid.notify.settings import NotifySettings

router = APIRouter(prefix="/v1", tags=["notifications"])
OPERATORS = Depends(require_roles("operator"))


class WebhookIn(BaseModel):
    url: str = Field(..., max_length=2000, description="http(s) URL receiving POSTed JSON")
    secret: str = Field(..., min_length=16, max_length=200, description="HMAC-SHA256 key for X-Geogrid-Signature")
    description: str | None = Field(None, max_length=500)


def _hook(w: Webhook) -> dict:
    return {"id": w.id, "url": w.url, "description": w.description, "active": w.active,
            "created_at": w.created_at.isoformat() if w.created_at else None}  # fmt: skip


@router.post("/webhooks", status_code=201, summary="Register a webhook (the secret is never shown again)")
def create_webhook(body: WebhookIn, session: Session = Depends(get_session), caller: Caller = OPERATORS) -> dict:
    parts = urlsplit(body.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url", "an absolute http:// or https:// URL")
    hook = Webhook(url=body.url, secret=body.secret, description=body.description, created_by=caller.account_id)
    session.add(hook)
    session.flush()
    view = _hook(hook)
    session.commit()
    return view


@router.get("/webhooks", summary="Registered webhooks (without their secrets)")
def list_webhooks(session: Session = Depends(get_session), _: Caller = OPERATORS) -> list[dict]:
    return [_hook(w) for w in session.scalars(select(Webhook).order_by(Webhook.id))]


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Deactivate a webhook (its history is kept)")
def delete_webhook(webhook_id: int, session: Session = Depends(get_session), _: Caller = OPERATORS) -> Response:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"no webhook {webhook_id}", [{"field": "webhook_id", "reason": "not found"}])
    hook.active = False
    session.commit()
    return Response(status_code=204)


def _delivery(d: Delivery) -> dict:
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {"id": d.id, "webhook_id": d.webhook_id, "status": d.status, "attempts": d.attempts,
            "next_attempt_at": iso(d.next_attempt_at) if d.status == "pending" else None,
            "last_status": d.last_status, "last_error": d.last_error, "delivered_at": iso(d.delivered_at)}  # fmt: skip


@router.get("/notifications", summary="The outbox with each message's deliveries; status=dead is the dead-letter list")
def list_notifications(
    status: str | None = Query(None, description=f"deliveries in this state: {', '.join(DELIVERY_STATUSES)}"),
    kind: str | None = Query(None, description=f"one of {', '.join(KINDS)}"),
    case_id: int | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    session: Session = Depends(get_session),
    _: Caller = OPERATORS,
) -> dict:
    if status is not None and status not in DELIVERY_STATUSES:
        raise invalid("status", f"one of {list(DELIVERY_STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise invalid("kind", f"one of {list(KINDS)}")
    stmt = select(Notification).order_by(Notification.id.desc()).limit(limit).offset(offset)
    if status is not None:
        stmt = stmt.where(Notification.id.in_(select(Delivery.notification_id).where(Delivery.status == status)))
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    if case_id is not None:
        stmt = stmt.where(Notification.case_id == case_id)
    notes = list(session.scalars(stmt))
    deliveries: dict[int, list[dict]] = {n.id: [] for n in notes}
    if notes:
        rows = session.scalars(select(Delivery).where(Delivery.notification_id.in_(deliveries)).order_by(Delivery.id))
        for d in rows:
            if status is None or d.status == status:
                deliveries[d.notification_id].append(_delivery(d))
    items = [{**message(n.event_id, n.kind, n.created_at, n.payload), "deliveries": deliveries[n.id]} for n in notes]
    return {"notifications": items}


@router.post("/notifications/deliveries/{delivery_id}/retry", summary="Put a dead-lettered delivery back in line")
def retry_delivery(delivery_id: int, session: Session = Depends(get_session), _: Caller = OPERATORS) -> dict:
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}", [{"field": "delivery_id", "reason": "not found"}])
    if row.status != "dead":
        raise Conflict(f"delivery {delivery_id} is {row.status}, not dead", [{"field": "status", "reason": row.status}])
    row.status, row.attempts, row.next_attempt_at, row.lease_until = "pending", 0, datetime.now(UTC), None
    view = _delivery(row)
    session.commit()
    return view


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With ``GEOGRID_NOTIFY_WORKER=1`` each API worker also runs the delivery loop (safe: SKIP LOCKED claims)."""
    settings = NotifySettings.from_env()
    if not settings.worker_in_api:
        yield
        return
    from geogrid.notify.worker import run

    stop = threading.Event()
    url = DatabaseSettings.from_env().url
    thread = threading.Thread(target=run, args=(url, settings, stop), name="geogrid-notify", daemon=True)
    thread.start()
    app.state.notify_worker = thread
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, settings.timeout_s + 5)
