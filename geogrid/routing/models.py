"""Routing tables: category rules (who answers for a 部件/事件 class), time limits, and the unit of each grid.

Rules and time limits are keyed by kind and a 2-digit class or 4-digit class+subclass code; the most specific
row wins. Grid responsibility is keyed by layer and grid code (like ``grid_assignment``) so it survives a new
plan version of the layer.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from geogrid.store.models import Base, GridLayer, Unit

KINDS = ("component", "event")
LEVELS = ("grid", "community", "street", "district")
URGENCIES = ("normal", "urgent")
LIMIT_UNITS = ("hours", "days")


class RoutingRule(Base):
    """Who answers for a category: the owner department (属主) and the lowest territorial level (属地) that acts."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        CheckConstraint("kind IN ('component', 'event')", name="routing_rule_kind"),
        CheckConstraint("code ~ '^[0-9]{2}([0-9]{2})?$'", name="routing_rule_code"),
        CheckConstraint("territorial_level IN ('grid', 'community', 'street', 'district')", name="routing_rule_level"),
        UniqueConstraint("kind", "code", name="routing_rule_kind_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(4), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    territorial_level: Mapped[str] = mapped_column(String(16), nullable=False, server_default="grid")
    note: Mapped[str | None] = mapped_column(Text)

    owner_unit: Mapped[Unit | None] = relationship()


class TimeLimit(Base):
    """How long the handling unit has, per category and urgency; working time unless ``working`` is false."""

    __tablename__ = "time_limit"
    __table_args__ = (
        CheckConstraint("kind IN ('component', 'event')", name="time_limit_kind"),
        CheckConstraint("code ~ '^[0-9]{2}([0-9]{2})?$'", name="time_limit_code"),
        CheckConstraint("urgency IN ('normal', 'urgent')", name="time_limit_urgency"),
        CheckConstraint("unit IN ('hours', 'days')", name="time_limit_unit"),
        CheckConstraint("value > 0", name="time_limit_positive"),
        UniqueConstraint("kind", "code", "urgency", name="time_limit_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(4), nullable=False)
    urgency: Mapped[str] = mapped_column(String(16), nullable=False, server_default="normal")
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(8), nullable=False, server_default="days")
    working: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    exempt_from_cap: Mapped[bool] = mapped_column(nullable=False, server_default=text("false"))
    exempt_reason: Mapped[str | None] = mapped_column(Text, comment="why this limit may exceed 5 working days")


class GridResponsibility(Base):
    """The unit that answers for a grid (its workstation or team), first stop of the territorial chain."""

    __tablename__ = "grid_responsibility"
    __table_args__ = (UniqueConstraint("layer_id", "grid_code", name="grid_responsibility_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layer.id", ondelete="CASCADE"), nullable=False)
    grid_code: Mapped[str] = mapped_column(String(32), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), nullable=False)

    layer: Mapped[GridLayer] = relationship()
    unit: Mapped[Unit] = relationship()
