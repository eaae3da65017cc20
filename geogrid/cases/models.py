"""Tables of the case workflow: cases, their history, their photos, and the working calendar.

Foreign keys point only at core tables (account, unit, admin_area); grids are kept by code because plans retire.
``case_report`` is partitioned by month of ``created_at`` (migration 0950): its table key is (id, created_at), so
references to a case by id (declared below as ForeignKey for the ORM's insert order) are enforced by triggers, and
the unique (reporter_account_id, idempotency_key) constraint lives in ``case_idempotency``: the database, not the
application, guarantees that a retried report never becomes a second case.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geogrid import STORE_SRID
from geogrid.store.models import Base

STATUSES = (
    "reported",
    "accepted",
    "rejected",
    "verified",
    "filed",
    "dispatched",
    "handling",
    "extension_requested",
    "fed_back",
    "checked",
    "returned",
    "parked",
    "closed",
)
TERMINAL = ("closed", "rejected")
URGENCIES = ("normal", "urgent")
CHANNELS = ("collector", "public", "hotline", "video", "higher")
CLOSE_TYPES = ("normal", "overdue", "error", "special")
LEVELS = ("community", "street", "district")
CENTRE_LEVELS = ("street", "district", "city")  # which grid centre (网格化中心) dispatches the case
PHOTO_KINDS = ("report", "check", "after")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Case(Base):
    """One reported problem followed from intake to closure (案件)."""

    __tablename__ = "case_report"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="case_report_status"),
        CheckConstraint(_in("urgency", URGENCIES), name="case_report_urgency"),
        CheckConstraint(_in("channel", CHANNELS), name="case_report_channel"),
        CheckConstraint(f"close_type IS NULL OR {_in('close_type', CLOSE_TYPES)}", name="case_report_close_type"),
        CheckConstraint(_in("escalation_level", LEVELS), name="case_report_level"),
        CheckConstraint(_in("centre_level", CENTRE_LEVELS), name="case_report_centre"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="case_report_satisfaction"),
        Index("case_report_status_idx", "status"),
        Index("case_report_unit_idx", "unit_id"),
        Index("case_report_escalate_idx", "escalate_at", postgresql_where=text("escalate_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False, server_default="reported")
    category: Mapped[str] = mapped_column(String(32), nullable=False, comment="event:CCSS or component:CCSS")
    urgency: Mapped[str] = mapped_column(String(16), nullable=False, server_default="normal")
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text, comment="Open311 media_url (migration 0700)")
    public_summary: Mapped[str | None] = mapped_column(Text, comment="operator-approved public text (migration 0500)")
    lon: Mapped[float] = mapped_column(Float, nullable=False, comment="CGCS2000 longitude")
    lat: Mapped[float] = mapped_column(Float, nullable=False, comment="CGCS2000 latitude")
    geom = mapped_column(Geometry("POINT", srid=STORE_SRID, spatial_index=False), nullable=False)
    crs_in: Mapped[str] = mapped_column(String(32), nullable=False, comment="CRS the reporter sent")
    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    reporter_name: Mapped[str | None] = mapped_column(Text, comment="personal data: operators only")
    reporter_contact: Mapped[str | None] = mapped_column(Text, comment="personal data: operators only")
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64), comment="sha256 of the request, to spot key reuse")
    grid_code: Mapped[str | None] = mapped_column(String(32), index=True)
    route: Mapped[dict | None] = mapped_column(JSONB, comment="routing result at intake")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    time_limit_value: Mapped[float | None] = mapped_column(Float)
    time_limit_unit: Mapped[str | None] = mapped_column(String(8))
    time_limit_working: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("case_report.id", ondelete="SET NULL"))
    escalation_level: Mapped[str] = mapped_column(String(16), nullable=False, server_default="community")
    escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="SET NULL"), comment="street/district unit supervising after escalation"
    )
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="the unit's deadline")
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    filed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="current clock start")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_type: Mapped[str | None] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    rework_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    extension_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    pending_extension: Mapped[dict | None] = mapped_column(JSONB)
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="deadline warning due")
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    centre_level: Mapped[str] = mapped_column(String(16), nullable=False, server_default="street")
    on_spot: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger, comment="the reporter's rating, 1–5")
    satisfaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class CaseEvent(Base):
    """One step of a case's history: who did what, when, from which state to which."""

    __tablename__ = "case_event"
    __table_args__ = (Index("case_event_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_report.id", ondelete="CASCADE"), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16), nullable=False, comment="'system' for the escalation job")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONB)


class CasePhoto(Base):
    """A photo stored under the media directory, named by its SHA-256 so a retried upload rewrites the same file."""

    __tablename__ = "case_photo"
    __table_args__ = (
        CheckConstraint(_in("kind", PHOTO_KINDS), name="case_photo_kind"),
        UniqueConstraint("case_id", "kind", "sha256", name="case_photo_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_report.id", ondelete="CASCADE"), nullable=False, index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("case_event.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False, comment="relative to GEOGRID_MEDIA_DIR")
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class CaseIdempotency(Base):
    """The claim of an Idempotency-Key by a reporter, made before the case row (with the case's id from the
    sequence); unique here because a unique constraint on the partitioned case table would have to include the
    month and would miss a retry."""

    __tablename__ = "case_idempotency"
    __table_args__ = (UniqueConstraint("reporter_account_id", "idempotency_key", name="case_report_idempotency"),)

    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(128), nullable=False)
    case_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class CalendarYear(Base):
    """A year whose calendar data is present (seeded from the package or imported); others are refused."""

    __tablename__ = "work_calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class CalendarDay(Base):
    """An exception to the Monday–Friday week: a public holiday (workday false) or a make-up workday (true)."""

    __tablename__ = "work_calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
