"""On-the-spot handling (当场处置, seeds/004: 对一些当场发现并能处置的问题，应立即予以处置，并报备街道网格中心).

A collector who found a problem and solved it at once reports and closes it in one step, with photos before and
after. It is intake (``submit_report``) followed by the ``close_on_spot`` workflow action in the same transaction, so
either both happen or neither; the closure is reported to the street centre (a filing) and counted apart in the
statistics (``on_spot``), outside 应结案 (there was no dispatch and no deadline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from geogrid.cases import media
from geogrid.cases.intake import IntakeError, IntakeResult, KeyReused, ReportInput, attach_photos, submit_report
from geogrid.cases.settings import CaseSettings
from geogrid.cases.workflow import Actor, RoleNotAllowed, apply


def handle_on_the_spot(
    session: Session,
    report: ReportInput,
    actor: Actor,
    *,
    before: Sequence[media.Photo],
    after: Sequence[media.Photo],
    idempotency_key: str | None = None,
    settings: CaseSettings | None = None,
    now: datetime | None = None,
) -> IntakeResult:
    """Report and close in one transaction (the caller commits); a retry with the same key returns the same case."""
    if actor.role not in ("collector", "admin"):
        raise RoleNotAllowed("only a grid member (collector) handles problems on the spot", "role", "needs collector")
    if not before:
        raise IntakeError("photos_before", "at least one photo of the problem is needed")
    if not after:
        raise IntakeError("photos_after", "at least one photo after handling is needed")
    report = replace(report, channel="collector")
    result = submit_report(
        session, report, actor, idempotency_key=idempotency_key, photos=before, settings=settings, now=now
    )
    if not result.created:
        if not result.case.on_spot:  # the key named an ordinary report
            raise KeyReused(result.case.id)
        return result
    counts = {"photos_before": len(before), "photos_after": len(after)}
    event = apply(session, result.case, "close_on_spot", actor, at=now, params=counts)
    attach_photos(session, result.case.id, after, "after", event.id, settings)
    return result
