"""tiles: grids of non-draft plans kept in Web Mercator, so a tile query clips without transforming

Revision ID: 0300
Revises: 0001
Create Date: 2026-11-23 13:30:00
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tile_plan",
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("grids", sa.Integer(), nullable=False),
        sa.Column("admin_stamp", sa.Text(), nullable=False, comment="admin_area row count:last xid when filled"),
        sa.Column("filled_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        comment="plans whose grids are in tile_grid (filled on the first tile request of the plan)",
    )
    op.create_table(
        "tile_grid",
        sa.Column("grid_id", sa.Integer(), sa.ForeignKey("grid.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("tile_plan.plan_id", ondelete="CASCADE"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("tier", sa.String(1)),
        sa.Column("community_code", sa.String(32)),
        sa.Column("community_name", sa.Text()),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(srid=3857, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"),
            nullable=False,
        ),
        comment="what a vector tile shows of a grid: its properties and its geometry in EPSG:3857",
    )
    op.create_index("tile_grid_plan", "tile_grid", ["plan_id"])
    op.create_index("tile_grid_geom_gist", "tile_grid", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("tile_grid")
    op.drop_table("tile_plan")
