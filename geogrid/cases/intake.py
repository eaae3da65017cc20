"""Reports become cases: validated, routed to a grid and a unit, checked for duplicates, stored exactly once.

Exactly-once rests on the database: the key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` against the
unique (reporter account, Idempotency-Key) constraint of ``case_idempotency`` before the case row is written
(the case table is partitioned by month, so it cannot hold that constraint itself). A concurrent retry waits on the
first claim's lock, then finds the committed case and returns it; a retry after a lost response finds it too. A key
reused with a different request body is refused rather than silently answered with someone else's case.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.cases import media
from geogrid.cases.categories import CategoryError, normalize
from geogrid.cases.intake_sql import store_report
from geogrid.cases.models import CHANNELS, TERMINAL, URGENCIES, Case, CasePhoto
from geogrid.cases.settings import CaseSettings
from geogrid.cases.workflow import Actor

DISTRICT_CHANNELS = ("hotline", "higher")  # seeds/004: 12345 and higher-level channels are dispatched by the district


@dataclass(frozen=True)
class ReportInput:
    lon: float
    lat: float
    category: str
    description: str
    crs: str = "wgs84"
    urgency: str = "normal"
    channel: str | None = None
    address: str | None = None
    reporter_name: str | None = None
    contact: str | None = None
    media_url: str | None = None  # a link to a photo (Open311)


class IntakeError(ValueError):
    """A report we refuse (HTTP 422), naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class KeyReused(Exception):
    """The Idempotency-Key was already used by this account for a different request (HTTP 409)."""

    def __init__(self, case_id: int) -> None:
        super().__init__(f"Idempotency-Key already used for a different report (case {case_id})")
        self.case_id = case_id


@dataclass
class IntakeResult:
    case: Case
    created: bool
    duplicate_of: Case | None


def _request_hash(report: ReportInput, photos: Sequence[media.Photo]) -> str:
    body = {**asdict(report), "photos": [p.sha256 for p in photos]}
    if body["media_url"] is None:  # reports sent before media_url existed keep their hash (idempotent retries)
        del body["media_url"]
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _store_point(report: ReportInput) -> tuple[float, float, str]:
    """The report's point validated and converted to store lon/lat, once (with the CRS's canonical name)."""
    from geogrid.routing.locate import PointError, crs_name, crs_spec, point_to_store

    if not (math.isfinite(report.lon) and math.isfinite(report.lat)):
        raise IntakeError("lon" if not math.isfinite(report.lon) else "lat", "not a finite number")
    try:
        spec = crs_spec(report.crs)
        lon, lat = point_to_store(report.lon, report.lat, spec)
    except PointError as exc:
        raise IntakeError(exc.field, exc.reason) from None
    return lon, lat, crs_name(spec)


def _route(session: Session, index, lon: float, lat: float, crs: str, category: str, urgency: str) -> dict:
    """Locate the converted point once and route it with the index's in-memory rulebook (no query)."""
    from geogrid.routing.index import shared_index
    from geogrid.routing.locate import locate_point
    from geogrid.routing.route import route_located
    from geogrid.supervision.duty import apply_duty

    if index is None:  # library callers: the process-wide index, brought up to date with one counter read
        index = shared_index(session.get_bind().url.render_as_string(hide_password=False))
        index.refresh(conn=session.connection())
    snapshot = index.snapshot
    try:
        loc = locate_point(snapshot, lon, lat, crs)
        data = route_located(snapshot.rulebook, loc, category, urgency).to_dict()
    except (ValueError, LookupError) as exc:
        field, reason = getattr(exc, "field", "location"), getattr(exc, "reason", str(exc))
        raise IntakeError(field, f"cannot route this report: {reason}") from None
    if not data.get("outside") and data.get("category"):
        apply_duty(data, snapshot.rulebook.choose_duty(data.get("layer"), data.get("grid_code"), lon, lat, category))
    else:
        apply_duty(data, None)
    if data.get("outside"):
        raise IntakeError("location", "outside every published grid of the jurisdiction")
    # one grid per published layer; only identifying fields (grid staff contacts never ride along on a case)
    keep = ("code", "name", "tier", "plan")
    data["grids"] = {name: g and {k: g.get(k) for k in keep} for name, g in (loc.answer.get("layers") or {}).items()}
    data["index_version"] = snapshot.version
    return data


def find_duplicate(session: Session, category: str, lon: float, lat: float, radius_m: float) -> Case | None:
    """The nearest open case of the same category within ``radius_m`` metres (geodesic, PostGIS geography)."""
    here = func.geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), STORE_SRID))
    return session.scalars(
        select(Case)
        .where(
            Case.category == category,
            Case.status.not_in(TERMINAL),
            func.ST_DWithin(func.geography(Case.geom), here, radius_m),
        )
        .order_by(func.ST_Distance(func.geography(Case.geom), here), Case.id)
        .limit(1)
    ).first()


def _existing(session: Session, account_id: int | None, key: str, request_hash: str) -> Case | None:
    case = session.scalars(
        select(Case).where(Case.reporter_account_id == account_id, Case.idempotency_key == key)
    ).first()
    if case is not None and case.request_hash != request_hash:
        raise KeyReused(case.id)
    return case


def _replay(session: Session, case: Case) -> IntakeResult:
    duplicate = session.get(Case, case.duplicate_of_id) if case.duplicate_of_id else None
    return IntakeResult(case, False, duplicate)


def _id(part: dict | None) -> int | None:
    return part.get("id") if isinstance(part, dict) else None


def _check(report: ReportInput, actor: Actor, idempotency_key: str | None) -> tuple[str, str]:
    """(normalised category, channel), or IntakeError naming the field."""
    try:
        category = normalize(report.category)
    except CategoryError as exc:
        raise IntakeError("category", str(exc)) from None
    if report.urgency not in URGENCIES:
        raise IntakeError("urgency", f"must be one of {list(URGENCIES)}")
    channel = report.channel or ("collector" if actor.role == "collector" else "public")
    if channel not in CHANNELS:
        raise IntakeError("channel", f"must be one of {list(CHANNELS)}")
    if not report.description or not report.description.strip():
        raise IntakeError("description", "must not be empty")
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 128):
        raise IntakeError("Idempotency-Key", "must be 1–128 characters")
    return category, channel


def submit_report(
    session: Session,
    report: ReportInput,
    actor: Actor,
    *,
    idempotency_key: str | None = None,
    photos: Sequence[media.Photo] = (),
    settings: CaseSettings | None = None,
    now: datetime | None = None,
    index=None,
    autocommit: bool = False,
) -> IntakeResult:
    """Validate, route and store a report as a case in state ``reported``; the caller commits.

    ``index``: the worker's locate index (the API's); None uses the process-wide one. ``autocommit``: the
    session has not begun and the caller wants the write to be its own transaction (one round trip)."""
    settings = settings or CaseSettings.from_env()
    category, channel = _check(report, actor, idempotency_key)
    digest = _request_hash(report, photos)
    lon, lat, crs = _store_point(report)
    routed = json.loads(json.dumps(_route(session, index, lon, lat, crs, category, report.urgency), default=str))
    limit = routed.get("time_limit") or {}
    now = now or datetime.now(UTC)
    values = {
        "status": "reported",
        "category": category,
        "urgency": report.urgency,
        "channel": channel,
        "description": report.description.strip(),
        "address": report.address,
        "media_url": report.media_url,
        "lon": lon,
        "lat": lat,
        "crs_in": report.crs,
        "reporter_account_id": actor.account_id,
        "reporter_name": report.reporter_name,
        "reporter_contact": report.contact,
        "idempotency_key": idempotency_key,
        "request_hash": digest,
        "grid_code": routed.get("grid_code"),
        "route": routed,
        "community_id": _id(routed.get("community")),
        "street_id": _id(routed.get("street")),
        "district_id": _id(routed.get("district")),
        "unit_id": _id(routed.get("unit")),
        "time_limit_value": limit.get("value"),
        "time_limit_unit": limit.get("unit"),
        "time_limit_working": bool(limit.get("working", True)),
        "centre_level": "district" if channel in DISTRICT_CHANNELS else "street",
        "created_at": now,
        "updated_at": now,
    }
    radius = settings.duplicate_radius_m
    stored = store_report(session, values, actor.role, len(photos), radius, autocommit and not photos)
    if stored.kind != "new":  # a replay, or a concurrent retry won the race and has committed
        case = stored.case if stored.kind == "prior" else None
        if case is None or case.request_hash != digest:
            case = _existing(session, actor.account_id, idempotency_key, digest)
        return _replay(session, case)
    duplicate = None if stored.duplicate is None else Case(**stored.duplicate)
    if photos:
        attach_photos(session, stored.case.id, photos, "report", stored.event_id, settings)
    return IntakeResult(stored.case, True, duplicate)


def attach_photos(
    session: Session,
    case_id: int,
    photos: Sequence[media.Photo],
    kind: str,
    event_id: int | None,
    settings: CaseSettings | None = None,
) -> int:
    """Store the files and their rows; the same photo twice on one case and kind is kept once."""
    seen: set[str] = set()
    for photo in photos:
        if photo.sha256 in seen:
            continue
        seen.add(photo.sha256)
        path = media.store(photo, settings)
        session.execute(
            insert(CasePhoto)
            .values(
                case_id=case_id,
                event_id=event_id,
                kind=kind,
                path=path,
                sha256=photo.sha256,
                content_type=photo.content_type,
                size_bytes=len(photo.data),
            )
            .on_conflict_do_nothing(constraint="case_photo_once")
        )
    return len(seen)
