"""Tables of the planner's workbench (migration 0600).

Why these and not columns on ``plan``/``grid``: the core store stays as it was for every other reader; a plan that
is never edited has no rows here. Blocks and the edit journal are written with set-based SQL (``blocks``,
``journal``); the ORM classes document the schema and serve the simple reads.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geogrid import STORE_SRID
from geogrid.store.models import Base


class RoadNetwork(Base):
    """Road centrelines a plan was generated from, or imported for it; plans copied from it share it."""

    __tablename__ = "road_network"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    edges: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RoadEdge(Base):
    __tablename__ = "road_edge"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("road_network.id", ondelete="CASCADE"), nullable=False)
    road_class: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    highway: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("LINESTRING", srid=STORE_SRID, spatial_index=False), nullable=False)


class PlanWorkbench(Base):
    """A plan's road network and, for a draft, where it was copied from and what its live checks keep."""

    __tablename__ = "plan_workbench"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    road_network_id: Mapped[int | None] = mapped_column(ForeignKey("road_network.id", ondelete="SET NULL"))
    metric_srid: Mapped[int | None] = mapped_column(Integer)
    checks: Mapped[dict | None] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlanBlock(Base):
    """One editing unit of a draft: a face of roads ∩ grids ∩ communities, owned by one grid."""

    __tablename__ = "plan_block"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False)
    grid_code: Mapped[str | None] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"))
    outside_m2: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    area_m2: Mapped[float] = mapped_column(Float, nullable=False)
    cases: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    geom = mapped_column(Geometry("POLYGON", srid=STORE_SRID, spatial_index=False), nullable=False)


class PlanEdit(Base):
    """One entry of a draft's journal: an edit (``done``/``undone``/``discarded``) or a logged action."""

    __tablename__ = "plan_edit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    op: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict | None] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("plan_edit.id", ondelete="SET NULL"))
    forced: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    summary: Mapped[dict | None] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlanFiling(Base):
    """The filing record (备案) of a publication: who, when, the note, the diff against the plan it replaced."""

    __tablename__ = "plan_filing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    previous_plan: Mapped[str | None] = mapped_column(String(128))
    summary: Mapped[dict | None] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseGrid(Base):
    """An open case's grid in a plan published after it was reported; the case's own ``grid_code`` stays."""

    __tablename__ = "case_grid"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_report.id", ondelete="CASCADE"), nullable=False)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layer.id", ondelete="CASCADE"), nullable=False)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), nullable=False)
    grid_code: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
