"""planner workbench: road networks, draft blocks, the edit journal, filing records, cases' grids per plan

Revision ID: 0600
Revises: 0200
Create Date: 2026-12-03 14:00:00
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0600"
down_revision = "0200"
branch_labels = None
depends_on = None


def _geom(kind: str) -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(
        geometry_type=kind, srid=4490, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"
    )


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _actor() -> list[sa.Column]:
    return [
        sa.Column("actor", sa.Text(), nullable=False, comment="account name, or the CLI's operating-system user"),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
    ]


def upgrade() -> None:
    op.create_table(
        "road_network",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("edges", sa.Integer(), nullable=False, server_default="0"),
        _ts("created_at"),
        comment="a road network (centrelines) a plan was generated from or checked against",
    )
    op.create_table(
        "road_edge",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("road_network.id", ondelete="CASCADE"), nullable=False),
        sa.Column("road_class", sa.SmallInteger(), nullable=False, comment="1 main, 2 secondary, 3 local, 4 minor"),
        sa.Column("highway", sa.Text()),
        sa.Column("geom", _geom("LINESTRING"), nullable=False),
    )
    op.create_index("road_edge_network", "road_edge", ["network_id"])
    op.create_index("road_edge_geom_gist", "road_edge", ["geom"], postgresql_using="gist")
    op.create_table(
        "plan_workbench",
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="SET NULL"), comment="copied from"),
        sa.Column("road_network_id", sa.Integer(), sa.ForeignKey("road_network.id", ondelete="SET NULL")),
        sa.Column("metric_srid", sa.Integer(), comment="local metric CRS of areas and lengths"),
        sa.Column("checks", postgresql.JSONB(), comment="what the live checks keep between edits"),
        sa.Column("created_by", sa.Text()),
        _ts("created_at"),
        comment="a plan's road network and, for drafts, the editing state",
    )
    op.create_table(
        "plan_block",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("grid_code", sa.String(32), comment="the grid the block belongs to"),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL")),
        sa.Column(
            "outside_m2", sa.Float(), nullable=False, server_default="0", comment="area outside the jurisdiction"
        ),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False, server_default="0", comment="reported cases inside"),
        sa.Column("geom", _geom("POLYGON"), nullable=False),
        comment="the units a draft is edited in: roads ∩ grids ∩ communities",
    )
    op.create_index("plan_block_plan_grid", "plan_block", ["plan_id", "grid_code"])
    op.create_index("plan_block_geom_gist", "plan_block", ["geom"], postgresql_using="gist")
    op.create_table(
        "plan_edit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("params", postgresql.JSONB()),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("plan_edit.id", ondelete="SET NULL")),
        sa.Column("forced", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("summary", postgresql.JSONB()),
        *_actor(),
        _ts("created_at"),
        sa.CheckConstraint("state IN ('done', 'undone', 'discarded', 'log')", name="plan_edit_state"),
        sa.UniqueConstraint("plan_id", "seq", name="plan_edit_seq"),
        comment="every edit of a draft (and undo, redo, copy) with who and when",
    )
    op.create_table(
        "plan_edit_row",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("edit_id", sa.Integer(), sa.ForeignKey("plan_edit.id", ondelete="CASCADE"), nullable=False),
        sa.Column("side", sa.String(1), nullable=False, comment="b = before the edit, a = after"),
        sa.Column("kind", sa.String(5), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False, comment="grid.id or plan_block.id"),
        sa.Column("attrs", postgresql.JSONB(), nullable=False),
        sa.Column("geom", _geom("GEOMETRY"), comment="only where the geometry changed"),
        sa.CheckConstraint("side IN ('b', 'a')", name="plan_edit_row_side"),
        sa.CheckConstraint("kind IN ('grid', 'block')", name="plan_edit_row_kind"),
    )
    op.create_index("plan_edit_row_edit", "plan_edit_row", ["edit_id"])
    op.create_table(
        "plan_filing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("previous_plan", sa.String(128), comment="the plan it replaced"),
        sa.Column("summary", postgresql.JSONB(), comment="diff against the previous plan, carried assignments"),
        *_actor(),
        _ts("created_at"),
        comment="the filing record (备案) of a publication",
    )
    op.create_index("plan_filing_plan", "plan_filing", ["plan_id"])
    op.create_table(
        "case_grid",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_report.id", ondelete="CASCADE"), nullable=False),
        sa.Column("layer_id", sa.Integer(), sa.ForeignKey("grid_layer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("grid_code", sa.String(32), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("case_id", "plan_id", name="case_grid_once"),
        comment="an open case's grid in a plan published after it was reported (its own grid_code stays)",
    )
    op.create_index("case_grid_case", "case_grid", ["case_id"])


def downgrade() -> None:
    for table in (
        "case_grid",
        "plan_filing",
        "plan_edit_row",
        "plan_edit",
        "plan_block",
        "plan_workbench",
        "road_edge",
        "road_network",
    ):
        op.drop_table(table)
