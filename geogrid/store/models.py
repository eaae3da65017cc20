"""The store's schema: admin hierarchy, grid layers and versioned plans, units, people and accounts.

Geometries are MULTIPOLYGON in EPSG:4490 (CGCS2000), one GiST index each, so QGIS reads every table as a layer.
Metric figures (area, diameter) are computed in a local projected CRS on the way in and stored alongside.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from geogrid import STORE_SRID

ADMIN_LEVELS = ("district", "street", "community")
PLAN_STATUSES = ("draft", "published", "retired")
TIERS = ("A", "B", "C")
ROLES = ("public", "reporter", "collector", "operator", "unit", "planner", "admin")
PERSON_ROLES = ("总网格长", "一级网格长", "二级网格长", "网格长", "网格员", "专职网格员", "兼职网格员", "网格指导员")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def area_geometry() -> Geometry:
    return Geometry("MULTIPOLYGON", srid=STORE_SRID, spatial_index=False)


class Base(DeclarativeBase):
    pass


class AdminArea(Base):
    """A district (区/县), street or township (街道/乡镇) or community or village (社区/村)."""

    __tablename__ = "admin_area"
    __table_args__ = (
        CheckConstraint(_in("level", ADMIN_LEVELS), name="admin_area_level"),
        UniqueConstraint("level", "code", name="admin_area_level_code"),
        Index("admin_area_geom_gist", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False, comment="GB/T 2260-style digits or a local code")
    name: Mapped[str] = mapped_column(Text, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"), index=True)
    area_m2: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(area_geometry(), nullable=False)

    parent: Mapped[AdminArea | None] = relationship(remote_side="AdminArea.id")


class GridLayer(Base):
    """One kind of grid laid over the ground (unit, responsibility, self-governance …); layers overlap."""

    __tablename__ = "grid_layer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class Plan(Base):
    """One version of one layer: draft → published → retired; at most one published per layer."""

    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="plan_status"),
        UniqueConstraint("layer_id", "version", name="plan_layer_version"),
        Index(
            "plan_one_published_per_layer",
            "layer_id",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layer.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="draft")
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    source: Mapped[str | None] = mapped_column(Text, comment="file or generator the plan came from")
    report: Mapped[dict | None] = mapped_column(JSONB, comment="latest validation or partition report")

    layer: Mapped[GridLayer] = relationship()


class Grid(Base):
    """One management grid of one plan."""

    __tablename__ = "grid"
    __table_args__ = (
        UniqueConstraint("plan_id", "code", name="grid_plan_code"),
        CheckConstraint(f"tier IS NULL OR {_in('tier', TIERS)}", name="grid_tier"),
        Index("grid_geom_gist", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, comment="15-digit code when derivable")
    local_code: Mapped[str | None] = mapped_column(String(64), comment="the code as the source file spelled it")
    name: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(1))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"), index=True)
    area_m2: Mapped[float | None] = mapped_column(Float)
    diameter_m: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(area_geometry(), nullable=False)

    plan: Mapped[Plan] = relationship()


class Unit(Base):
    """A department, team or company that handles problems (城管执法大队, 市场监管局, a property company …)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, server_default="department")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    admin_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_area.id", ondelete="SET NULL"), comment="territory it answers for (属地), if any"
    )


class Person(Base):
    """A grid chief, grid member or unit staff; ``phone`` is personal data and never leaves on a public view."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32), comment="personal data")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))


class GridAssignment(Base):
    """A person's role in a grid, keyed by layer and grid code so it survives a new plan version."""

    __tablename__ = "grid_assignment"
    __table_args__ = (UniqueConstraint("layer_id", "grid_code", "person_id", "role", name="grid_assignment_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layer.id", ondelete="CASCADE"), nullable=False)
    grid_code: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False, comment="网格长, 网格员, …")


class Account(Base):
    """Someone or something that calls the API; only a SHA-256 hash of its key is kept."""

    __tablename__ = "account"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="account_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    admin_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_area.id", ondelete="SET NULL"), comment="operators: their district or street centre"
    )
    active: Mapped[bool] = mapped_column(server_default=text("true"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # migration 0500
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    previous_key_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_key_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
