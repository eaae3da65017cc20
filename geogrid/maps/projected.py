"""Grids of non-draft plans kept as tiles show them (``internal.tile_plan`` / ``internal.tile_grid``, 0300, 0701).

Why: a lone cold tile otherwise costs a per-row ST_Transform from EPSG:4490, joins to ``grid`` and ``admin_area``,
and — the largest part — planning the query. Here the properties and the EPSG:3857 geometry are copied once, on the
first tile request of a plan, and a single tile is one prepared statement: an index scan and ST_AsMVTGeom.

A plan stops changing when it leaves draft, so its copy stays valid until the plan is deleted (rows cascade) or the
admin areas change (community names are copied too): ``tile_plan.admin_stamp`` records the admin table's row count
and last writing transaction at fill time, and a copy with another stamp is refilled. Drafts are never copied.
"""

from __future__ import annotations

import re
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from geogrid.store.models import Base
from geogrid.store.replicas import transaction_pooled

_LOCK_CLASS = 4_103_857  # first key of the advisory lock that serialises fills of one plan
_STAMP = "SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text FROM admin_area"
_FILL = """
INSERT INTO internal.tile_grid (grid_id, plan_id, code, name, tier, community_code, community_name, geom)
SELECT g.id, g.plan_id, g.code, g.name, g.tier, c.code, c.name, ST_Transform(g.geom, 3857)
FROM grid g LEFT JOIN admin_area c ON c.id = g.community_id
WHERE g.plan_id = :p
"""
STATEMENT = "geogrid_tile_grids"
# $1 plan, $2-$4 z/x/y, $5 layer name, $6-$9 the tile's envelope grown by the buffer (filters through the index).
_PREPARE = f"""
PREPARE {STATEMENT} (integer, integer, integer, integer, text, float8, float8, float8, float8) AS
SELECT ST_AsMVT(q, $5, {{extent}}, 'geom') FROM (
    SELECT ST_AsMVTGeom(t.geom, ST_TileEnvelope($2, $3, $4), {{extent}}, {{buffer}}, true) AS geom,
           t.code, t.name, t.tier, t.community_code, t.community_name
    FROM internal.tile_grid t WHERE t.plan_id = $1 AND t.geom && ST_MakeEnvelope($6, $7, $8, $9, 3857)) q
"""
_SELECT = re.sub(r"\$(\d)", r"%(p\1)s", _PREPARE.split(" AS\n", 1)[1])  # the same query with client-side parameters


class TilePlan(Base):
    """A plan whose grids are in ``tile_grid``."""

    __tablename__ = "tile_plan"
    __table_args__ = {"schema": "internal"}

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    grids: Mapped[int] = mapped_column(Integer, nullable=False)
    admin_stamp: Mapped[str] = mapped_column(Text, nullable=False)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TileGrid(Base):
    """One grid as its tiles show it: properties and geometry in EPSG:3857."""

    __tablename__ = "tile_grid"
    __table_args__ = {"schema": "internal"}

    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("internal.tile_plan.plan_id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(1))
    community_code: Mapped[str | None] = mapped_column(String(32))
    community_name: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry(srid=3857, spatial_index=False), nullable=False)


def ensure_projected(session: Session, plan_id: int) -> int:
    """Make sure ``tile_grid`` holds the plan's grids as of the current admin areas; returns how many.

    Runs in its own transaction on a separate connection (committed at once, whatever the caller's session does);
    concurrent first requests for one plan wait on an advisory lock instead of filling twice.
    """
    check = text("SELECT grids FROM internal.tile_plan WHERE plan_id = :p AND admin_stamp = :s")
    with session.get_bind().begin() as conn:
        stamp = conn.execute(text(_STAMP)).scalar()
        done = conn.execute(check, {"p": plan_id, "s": stamp}).scalar()
        if done is not None:
            return done
        conn.execute(text("SELECT pg_advisory_xact_lock(:k, :p)"), {"k": _LOCK_CLASS, "p": plan_id})
        done = conn.execute(check, {"p": plan_id, "s": stamp}).scalar()
        if done is not None:
            return done
        conn.execute(text("DELETE FROM internal.tile_plan WHERE plan_id = :p"), {"p": plan_id})
        n = conn.execute(text("SELECT count(*) FROM grid WHERE plan_id = :p"), {"p": plan_id}).scalar()
        conn.execute(
            text("INSERT INTO internal.tile_plan (plan_id, grids, admin_stamp) VALUES (:p, :n, :s)"),
            {"p": plan_id, "n": n, "s": stamp},
        )
        conn.execute(text(_FILL), {"p": plan_id})
        conn.execute(text("ANALYZE internal.tile_grid"))
        return n


def render_one(
    session: Session,
    plan_id: int,
    tile: tuple[int, int, int],
    layer: str,
    envelope: tuple[float, float, float, float],
    extent: int,
    buffer: int,
) -> bytes:
    """One tile of a projected plan through the connection's prepared statement (prepared on first use)."""
    pooled = session.connection().connection  # the pool's wrapper: its ``info`` lives as long as the connection
    if transaction_pooled():  # behind pgbouncer a prepared statement would stay on another client's server
        with pooled.cursor() as cur:
            values = (plan_id, *tile, layer, *envelope)
            cur.execute(_SELECT.format(extent=extent, buffer=buffer), {f"p{i}": v for i, v in enumerate(values, 1)})
            row = cur.fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""
    with pooled.cursor() as cur:
        if not pooled.info.get(STATEMENT):
            cur.execute(_PREPARE.format(extent=extent, buffer=buffer))
            pooled.info[STATEMENT] = True
        cur.execute(f"EXECUTE {STATEMENT} (%s, %s, %s, %s, %s, %s, %s, %s, %s)", (plan_id, *tile, layer, *envelope))
        row = cur.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
