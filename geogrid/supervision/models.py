"""Tables of supervision: co-handling units of a case, duty sites and duty rules, filings to the upper centre.

Rows that refer to a case keep ``case_id`` without a foreign key (``case_report`` will be partitioned by month).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geogrid.store.models import Base, area_geometry

DUTY_SCOPES = ("grid", "site", "site_kind")
DUTY_ROLES = ("lead", "co")
FILING_KINDS = ("closure", "on_spot")
SITE_KINDS = ("market", "hospital", "park", "square", "toilet", "hotel", "school", "station", "dormitory", "other")


class CaseUnit(Base):
    """A co-handling unit (协办单位) of a joint case; the lead unit is ``case_report.unit_id``."""

    __tablename__ = "case_unit"
    __table_args__ = (UniqueConstraint("case_id", "unit_id", name="case_unit_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), nullable=False)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))


class DutySite(Base):
    """A place with its own duty (点位责任): a farmers' market, a hospital, a park, a square …"""

    __tablename__ = "duty_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(area_geometry(), nullable=False)


class DutyRule(Base):
    """One unit's duty, lead or co-handling, for a grid, a site or every site of a kind; per category or for all.

    ``kind`` null means every category; ``code`` '' every class of the kind, 2 digits a class, 4 a subclass.
    """

    __tablename__ = "duty_rule"
    __table_args__ = (
        CheckConstraint("scope IN ('grid', 'site', 'site_kind')", name="duty_rule_scope"),
        CheckConstraint("role IN ('lead', 'co')", name="duty_rule_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("grid_layer.id", ondelete="CASCADE"))
    grid_code: Mapped[str | None] = mapped_column(String(32))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("duty_site.id", ondelete="CASCADE"))
    site_kind: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(4), nullable=False, server_default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(8), nullable=False, server_default="lead")


class CaseFiling(Base):
    """A record filed with the upper centre (备案/报备): a street-level closure, or an on-the-spot handling."""

    __tablename__ = "case_filing"
    __table_args__ = (
        CheckConstraint("kind IN ('closure', 'on_spot')", name="case_filing_kind"),
        UniqueConstraint("case_id", "kind", name="case_filing_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    from_area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"))
    to_area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    summary: Mapped[dict | None] = mapped_column(JSONB)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
