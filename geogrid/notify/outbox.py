"""``emit``: write a notification and its pending deliveries in the caller's transaction.

Nothing is sent here. Because the rows commit (or roll back) with the case change that caused them, a notification
exists exactly when its event does: a crash or a database restart can delay a message, never lose or invent one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geogrid.notify.models import Delivery, Notification, Webhook

KINDS = ("case.assigned", "case.warning", "case.overdue", "case.escalated", "case.returned", "case.closed")


def emit(session: Session, kind: str, case_id: int | None, payload: dict, at: datetime) -> Notification:
    """Queue ``kind`` for every active webhook; the message id (``event_id``) is fixed now, before any attempt."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; one of {KINDS}")
    note = Notification(event_id=uuid.uuid4(), kind=kind, case_id=case_id, payload=payload, created_at=at)
    session.add(note)
    session.flush()
    targets = select(literal(note.id), Webhook.id, literal(at)).where(Webhook.active.is_(True))
    session.execute(
        insert(Delivery)
        .from_select(["notification_id", "webhook_id", "next_attempt_at"], targets)
        .on_conflict_do_nothing(constraint="notification_delivery_once")
    )
    return note


def message(event_id: uuid.UUID | str, kind: str, created_at: datetime, payload: dict) -> dict:
    """The JSON body a webhook receives: the message id and type, then the payload (``case``, ``data``)."""
    return {"id": str(event_id), "type": kind, "created_at": created_at.isoformat(), **payload}
