"""Tables of patrols: one row per uploaded track, one per (track, layer, grid) it visited."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from geogrid import STORE_SRID
from geogrid.store.models import Base


class Patrol(Base):
    """A patrol track in EPSG:4490, cleaned of impossible jumps; who walked it and when."""

    __tablename__ = "patrol"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key", name="patrol_idempotency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    n_fixes: Mapped[int] = mapped_column(Integer, nullable=False)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)
    crs_in: Mapped[str] = mapped_column(String(32), nullable=False)
    geom = mapped_column(Geometry("LINESTRING", srid=STORE_SRID, spatial_index=False), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class PatrolGrid(Base):
    """A grid a patrol visited: metres of track inside it and fixes inside it."""

    __tablename__ = "patrol_grid"

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"), primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("grid_layer.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)
    fixes: Mapped[int] = mapped_column(Integer, nullable=False)
