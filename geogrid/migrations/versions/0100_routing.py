"""routing: category rules, time limits and grid responsibility

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-23 11:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0001"
branch_labels = None
depends_on = None

CODE_CHECK = "code ~ '^[0-9]{2}([0-9]{2})?$'"


def upgrade() -> None:
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False, comment="2-digit class or 4-digit class+subclass"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True, comment="owner / competent department (属主)"),
        sa.Column("territorial_level", sa.String(length=16), server_default="grid", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('component', 'event')", name="routing_rule_kind"),
        sa.CheckConstraint(CODE_CHECK, name="routing_rule_code"),
        sa.CheckConstraint(
            "territorial_level IN ('grid', 'community', 'street', 'district')", name="routing_rule_level"
        ),
        sa.ForeignKeyConstraint(["owner_unit_id"], ["unit.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "code", name="routing_rule_kind_code"),
    )
    op.create_table(
        "time_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("urgency", sa.String(length=16), server_default="normal", nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=8), server_default="days", nullable=False),
        sa.Column("working", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint("kind IN ('component', 'event')", name="time_limit_kind"),
        sa.CheckConstraint(CODE_CHECK, name="time_limit_code"),
        sa.CheckConstraint("urgency IN ('normal', 'urgent')", name="time_limit_urgency"),
        sa.CheckConstraint("unit IN ('hours', 'days')", name="time_limit_unit"),
        sa.CheckConstraint("value > 0", name="time_limit_positive"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "code", "urgency", name="time_limit_once"),
    )
    op.create_table(
        "grid_responsibility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["grid_layer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layer_id", "grid_code", name="grid_responsibility_once"),
    )


def downgrade() -> None:
    op.drop_table("grid_responsibility")
    op.drop_table("time_limit")
    op.drop_table("routing_rule")
