"""The delivery worker: claim due deliveries, post them signed, record the outcome; safe with many workers.

A claim is one statement (``… FOR UPDATE SKIP LOCKED`` inside an ``UPDATE``) that takes a lease on up to ``batch``
due deliveries and commits at once, so no row lock is held while posting and two workers never claim the same row.
The post happens outside any transaction; its outcome is written only if the lease is still ours (same attempt
number). A worker killed mid-post, or a database that restarts before the outcome is written, leaves the lease to
expire and the delivery is posted again with the same event id: at least once, never lost.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from geogrid.notify.outbox import message
from geogrid.notify.settings import NotifySettings
from geogrid.notify.signing import EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, body_bytes, sign
from geogrid.store.db import get_engine

log = logging.getLogger("geogrid.notify")

CLAIM = text("""
WITH due AS (
  SELECT id FROM notification_delivery
  WHERE status = 'pending' AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until < :now)
  ORDER BY next_attempt_at, id
  LIMIT :batch
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE notification_delivery d SET attempts = d.attempts + 1, lease_until = :lease
  FROM due WHERE d.id = due.id
  RETURNING d.id, d.attempts, d.notification_id, d.webhook_id
)
SELECT c.id, c.attempts, n.event_id, n.kind, n.created_at, n.payload, w.url, w.secret
FROM claimed c JOIN notification n ON n.id = c.notification_id JOIN webhook w ON w.id = c.webhook_id
""")
RECORD = text("""
UPDATE notification_delivery SET status = :status, last_status = :code, last_error = :error, lease_until = NULL,
       next_attempt_at = :next, delivered_at = CASE WHEN :status = 'delivered' THEN :now END
WHERE id = :id AND attempts = :attempts AND status = 'pending'
""")


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int
    url: str
    secret: str
    event_id: str
    kind: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: int | None
    error: str | None


def claim(session: Session, settings: NotifySettings, now: datetime) -> list[Claimed]:
    """Lease up to ``settings.batch`` due deliveries; the caller commits at once."""
    rows = session.execute(
        CLAIM, {"now": now, "lease": now + timedelta(seconds=settings.lease_s), "batch": settings.batch}
    ).all()
    out = []
    for r in rows:
        body = body_bytes(message(r.event_id, r.kind, r.created_at, r.payload))
        out.append(Claimed(r.id, r.attempts, r.url, r.secret, str(r.event_id), r.kind, body))
    return out


def post(client: httpx.Client, item: Claimed) -> Outcome:
    """One signed POST; any 2xx is success, anything else (or no answer) a failure to retry."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(item.secret, item.body),
        EVENT_ID_HEADER: item.event_id,
        EVENT_HEADER: item.kind,
        "Idempotency-Key": item.event_id,
        "X-Geogrid-Attempt": str(item.attempts),
    }
    try:
        response = client.post(item.url, content=item.body, headers=headers)
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:300]}")


def record(session: Session, item: Claimed, outcome: Outcome, settings: NotifySettings, now: datetime) -> str:
    """Write the outcome if our lease still holds; returns the new status."""
    if outcome.ok:
        status, next_at = "delivered", now
    elif item.attempts >= settings.max_attempts:
        status, next_at = "dead", now
    else:
        status, next_at = "pending", now + timedelta(seconds=settings.backoff(item.attempts))
    params = {"status": status, "code": outcome.code, "error": outcome.error, "next": next_at, "now": now}
    session.execute(RECORD, {**params, "id": item.id, "attempts": item.attempts})
    return status


def deliver_due(
    factory: sessionmaker, settings: NotifySettings, client: httpx.Client, pool: ThreadPoolExecutor
) -> dict:
    """One round: claim (committed), post in parallel, record (committed). Returns counts by outcome."""
    with factory() as session, session.begin():
        items = claim(session, settings, datetime.now(UTC))
    counts = {"claimed": len(items), "delivered": 0, "pending": 0, "dead": 0}
    if not items:
        return counts
    outcomes = list(pool.map(lambda item: post(client, item), items))
    with factory() as session, session.begin():
        now = datetime.now(UTC)
        for item, outcome in zip(items, outcomes, strict=True):
            counts[record(session, item, outcome, settings, now)] += 1
    return counts


def run_supervision(factory: sessionmaker, settings: NotifySettings) -> dict:
    """Deadline warnings and overdue escalation, one pass, in one transaction."""
    from geogrid.supervision.deadlines import tick

    with factory() as session, session.begin():
        return tick(session, datetime.now(UTC), settings)


def run(url: str, settings: NotifySettings, stop: threading.Event, *, once: bool = False) -> dict:
    """The worker loop: supervise deadlines, deliver until nothing is due, sleep; survives database outages."""
    factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    totals = {"claimed": 0, "delivered": 0, "pending": 0, "dead": 0, "warned": 0, "escalated": 0, "errors": 0}
    pause = settings.poll_s
    with httpx.Client(timeout=settings.timeout_s) as client, ThreadPoolExecutor(max_workers=8) as pool:
        while not stop.is_set():
            try:
                summary = run_supervision(factory, settings)
                totals["warned"] += len(summary["warned"])
                totals["escalated"] += len(summary["escalated"])
                while not stop.is_set():
                    counts = deliver_due(factory, settings, client, pool)
                    for key in ("claimed", "delivered", "pending", "dead"):
                        totals[key] += counts[key]
                    if counts["claimed"] < settings.batch:
                        break
                pause = settings.poll_s
            except DBAPIError as exc:  # the store is away (restart, failover): wait and try again, losing nothing
                totals["errors"] += 1
                log.warning("notify worker: database unavailable (%s); retrying", str(exc.orig).strip()[:200])
                pause = min(max(pause * 2, settings.poll_s), 30.0)
            if once:
                break
            stop.wait(pause)
    return totals
