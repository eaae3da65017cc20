"""cases: reports, workflow history, photos, working calendar (seeded with the default year)

Revision ID: 0200
Revises: 0001
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0200"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = "'reported', 'accepted', 'rejected', 'verified', 'filed', 'dispatched', 'handling', 'extension_requested', 'fed_back', 'checked', 'returned', 'parked', 'closed'"


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "case_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(24), nullable=False, server_default="reported"),
        sa.Column("category", sa.String(32), nullable=False, comment="event:CCSS or component:CCSS"),
        sa.Column("urgency", sa.String(16), nullable=False, server_default="normal"),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.Text()),
        sa.Column("lon", sa.Float(), nullable=False, comment="CGCS2000 longitude"),
        sa.Column("lat", sa.Float(), nullable=False, comment="CGCS2000 latitude"),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT", srid=4490, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=False,
        ),
        sa.Column("crs_in", sa.String(32), nullable=False, comment="CRS the reporter sent"),
        sa.Column("reporter_account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("reporter_name", sa.Text(), comment="personal data: operators only"),
        sa.Column("reporter_contact", sa.Text(), comment="personal data: operators only"),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("request_hash", sa.String(64), comment="sha256 of the request, to spot key reuse"),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("route", postgresql.JSONB(), comment="routing result at intake"),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL")),
        sa.Column("street_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL")),
        sa.Column("district_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL")),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id", ondelete="SET NULL")),
        sa.Column("time_limit_value", sa.Float()),
        sa.Column("time_limit_unit", sa.String(8)),
        sa.Column("time_limit_working", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("duplicate_of_id", sa.Integer(), sa.ForeignKey("case_report.id", ondelete="SET NULL")),
        sa.Column("escalation_level", sa.String(16), nullable=False, server_default="community"),
        _ts("escalate_at"),
        sa.Column(
            "escalated_unit_id",
            sa.Integer(),
            sa.ForeignKey("unit.id", ondelete="SET NULL"),
            comment="street/district unit supervising after escalation",
        ),
        _ts("due_at", comment="the unit's deadline"),
        _ts("accepted_at"),
        _ts("filed_at"),
        _ts("first_dispatched_at"),
        _ts("dispatched_at", comment="current clock start"),
        _ts("closed_at"),
        sa.Column("close_type", sa.String(16)),
        sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("rework_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("extension_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("pending_extension", postgresql.JSONB()),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        _ts("updated_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="case_report_status"),
        sa.CheckConstraint("urgency IN ('normal', 'urgent')", name="case_report_urgency"),
        sa.CheckConstraint(
            "channel IN ('collector', 'public', 'hotline', 'video', 'higher')", name="case_report_channel"
        ),
        sa.CheckConstraint(
            "close_type IS NULL OR close_type IN ('normal', 'overdue', 'error', 'special')",
            name="case_report_close_type",
        ),
        sa.CheckConstraint("escalation_level IN ('community', 'street', 'district')", name="case_report_level"),
        sa.UniqueConstraint("reporter_account_id", "idempotency_key", name="case_report_idempotency"),
    )
    op.create_index("case_report_status_idx", "case_report", ["status"])
    op.create_index("case_report_unit_idx", "case_report", ["unit_id"])
    op.create_index(op.f("ix_case_report_grid_code"), "case_report", ["grid_code"])
    op.create_index(op.f("ix_case_report_community_id"), "case_report", ["community_id"])
    op.create_index(op.f("ix_case_report_street_id"), "case_report", ["street_id"])
    op.create_index(
        "case_report_escalate_idx", "case_report", ["escalate_at"], postgresql_where=sa.text("escalate_at IS NOT NULL")
    )
    # duplicate detection runs ST_DWithin on geography; index the expression it uses
    op.execute("CREATE INDEX case_report_geog_gist ON case_report USING gist (geography(geom))")

    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_report.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(24)),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("actor_account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("actor_role", sa.String(16), nullable=False, comment="'system' for the escalation job"),
        _ts("at", nullable=False, server_default=sa.text("now()")),
        sa.Column("note", sa.Text()),
        sa.Column("data", postgresql.JSONB()),
    )
    op.create_index("case_event_case_at", "case_event", ["case_id", "at"])

    op.create_table(
        "case_photo",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_report.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), sa.ForeignKey("case_event.id", ondelete="SET NULL")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False, comment="relative to GEOGRID_MEDIA_DIR"),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        _ts("created_at", nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("kind IN ('report', 'check')", name="case_photo_kind"),
        sa.UniqueConstraint("case_id", "kind", "sha256", name="case_photo_once"),
    )
    op.create_index(op.f("ix_case_photo_case_id"), "case_photo", ["case_id"])

    calendar = op.create_table(
        "work_calendar_day",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("workday", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text()),
    )
    from geogrid.cases.holidays_cn import DEFAULT_DAYS

    op.bulk_insert(calendar, [{"day": d, "workday": w, "name": n} for d, w, n in DEFAULT_DAYS])


def downgrade() -> None:
    op.drop_table("work_calendar_day")
    op.drop_table("case_photo")
    op.drop_table("case_event")
    op.drop_table("case_report")
