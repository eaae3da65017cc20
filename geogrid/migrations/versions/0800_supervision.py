"""supervision: notifications outbox and webhooks, joint cases, duty rules and sites, centres by level, filings,
on-the-spot handling, satisfaction, time-limit cap exemptions, calendar years, patrols

New tables that refer to a case keep ``case_id`` as a plain indexed integer without a foreign key: issue 15 will
partition ``case_report`` by month, and a partitioned table's primary key must include the partition column.

Revision ID: 0800
Revises: 0200
Depends on: 0100
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0800"
down_revision = "0200"
branch_labels = None
depends_on = ("0100",)


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _now(name: str) -> sa.Column:
    return _ts(name, nullable=False, server_default=sa.text("now()"))


def _geom(kind: str) -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(geometry_type=kind, srid=4490, spatial_index=False, name="geometry")


def _notifications() -> None:
    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False, comment="HMAC-SHA256 key; never shown after creation"),
        sa.Column("description", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        _now("created_at"),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False, unique=True,
                  server_default=sa.text("gen_random_uuid()"), comment="idempotency id sent with every delivery"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer(), comment="no FK: case_report will be partitioned"),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        _now("created_at"),
    )  # fmt: skip
    op.create_index("notification_case_idx", "notification", ["case_id"])
    op.create_index("notification_created_idx", "notification", ["created_at"])
    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("notification_id", sa.BigInteger(), sa.ForeignKey("notification.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("webhook_id", sa.Integer(), sa.ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _now("next_attempt_at"),
        _ts("lease_until", comment="a worker owns the attempt until then"),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        _ts("delivered_at"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="notification_delivery_status"),
        sa.UniqueConstraint("notification_id", "webhook_id", name="notification_delivery_once"),
    )  # fmt: skip
    op.create_index(
        "notification_delivery_due", "notification_delivery", ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )  # fmt: skip


def _case_columns() -> None:
    op.add_column("case_report", _ts("warn_at", comment="deadline warning due (share of the limit elapsed)"))
    op.add_column("case_report", _ts("warned_at"))
    op.add_column("case_report", sa.Column("centre_level", sa.String(16), nullable=False, server_default="street"))
    op.create_check_constraint("case_report_centre", "case_report", "centre_level IN ('street', 'district', 'city')")
    op.add_column("case_report", sa.Column("on_spot", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    op.add_column("case_report", sa.Column("satisfaction", sa.SmallInteger()))
    op.add_column("case_report", _ts("satisfaction_at"))
    op.add_column("case_report", sa.Column("satisfaction_note", sa.Text()))
    op.create_check_constraint("case_report_satisfaction", "case_report", "satisfaction BETWEEN 1 AND 5")
    op.create_index("case_report_warn_idx", "case_report", ["warn_at"], postgresql_where=sa.text("warn_at IS NOT NULL"))
    op.create_index("case_report_district_idx", "case_report", ["district_id"])
    op.drop_constraint("case_photo_kind", "case_photo")
    op.create_check_constraint("case_photo_kind", "case_photo", "kind IN ('report', 'check', 'after')")
    op.add_column(
        "account",
        sa.Column("admin_area_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL"),
                  comment="operators: the district or street centre they belong to (null: the whole city)"),
    )  # fmt: skip


def _joint_and_duty() -> None:
    op.create_table(
        "case_unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), nullable=False, comment="no FK: case_report will be partitioned"),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id", ondelete="CASCADE"), nullable=False),
        _now("assigned_at"),
        sa.Column("feedback", sa.Text()),
        _ts("feedback_at"),
        sa.Column("feedback_account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.UniqueConstraint("case_id", "unit_id", name="case_unit_once"),
    )
    op.create_index("case_unit_unit_idx", "case_unit", ["unit_id"])
    op.create_table(
        "duty_site",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, comment="market, hospital, park, square, toilet, hotel …"),
        sa.Column("source", sa.Text()),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
    )
    op.create_index("duty_site_geom_gist", "duty_site", ["geom"], postgresql_using="gist")
    op.create_table(
        "duty_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("layer_id", sa.Integer(), sa.ForeignKey("grid_layer.id", ondelete="CASCADE")),
        sa.Column("grid_code", sa.String(32)),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("duty_site.id", ondelete="CASCADE")),
        sa.Column("site_kind", sa.String(32)),
        sa.Column("kind", sa.String(16), comment="event | component | null for every category"),
        sa.Column("code", sa.String(4), nullable=False, server_default="", comment="'' | class | class+subclass"),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(8), nullable=False, server_default="lead"),
        sa.CheckConstraint("scope IN ('grid', 'site', 'site_kind')", name="duty_rule_scope"),
        sa.CheckConstraint("role IN ('lead', 'co')", name="duty_rule_role"),
        sa.CheckConstraint("kind IS NULL OR kind IN ('event', 'component')", name="duty_rule_kind"),
        sa.CheckConstraint("code ~ '^([0-9]{2}([0-9]{2})?)?$' AND (kind IS NOT NULL OR code = '')",
                           name="duty_rule_code"),
        sa.CheckConstraint(
            "(scope = 'grid' AND layer_id IS NOT NULL AND grid_code IS NOT NULL AND site_id IS NULL AND site_kind IS NULL)"
            " OR (scope = 'site' AND site_id IS NOT NULL AND layer_id IS NULL AND grid_code IS NULL AND site_kind IS NULL)"
            " OR (scope = 'site_kind' AND site_kind IS NOT NULL AND layer_id IS NULL AND grid_code IS NULL"
            " AND site_id IS NULL)",
            name="duty_rule_target",
        ),
    )  # fmt: skip
    target = "scope, COALESCE(layer_id, 0), COALESCE(grid_code, ''), COALESCE(site_id, 0), COALESCE(site_kind, ''), COALESCE(kind, ''), code"
    op.execute(f"CREATE UNIQUE INDEX duty_rule_once ON duty_rule ({target}, unit_id)")
    op.execute(f"CREATE UNIQUE INDEX duty_rule_one_lead ON duty_rule ({target}) WHERE role = 'lead'")
    op.create_index("duty_rule_grid_idx", "duty_rule", ["layer_id", "grid_code"])


def _filings_limits_calendar() -> None:
    op.create_table(
        "case_filing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), nullable=False, comment="no FK: case_report will be partitioned"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_area_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL")),
        sa.Column("to_area_id", sa.Integer(), sa.ForeignKey("admin_area.id", ondelete="SET NULL")),
        _now("filed_at"),
        sa.Column("summary", postgresql.JSONB()),
        _ts("acknowledged_at"),
        sa.Column("acknowledged_by", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.CheckConstraint("kind IN ('closure', 'on_spot')", name="case_filing_kind"),
        sa.UniqueConstraint("case_id", "kind", name="case_filing_once"),
    )
    op.create_index("case_filing_to_idx", "case_filing", ["to_area_id", "filed_at"])
    op.add_column("time_limit", sa.Column("exempt_from_cap", sa.Boolean(), nullable=False,
                                          server_default=sa.text("false")))  # fmt: skip
    op.add_column("time_limit", sa.Column("exempt_reason", sa.Text()))
    op.create_check_constraint(
        "time_limit_exempt_reason", "time_limit", "NOT exempt_from_cap OR length(trim(exempt_reason)) > 0"
    )
    years = op.create_table(
        "work_calendar_year",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        _now("updated_at"),
    )
    # seed every year the maintained package knows (holidays and 调休 make-up workdays), keeping rows already there
    from geogrid.cases.calendar_seed import package_days, package_name

    days = package_days()
    calendar = sa.table("work_calendar_day", sa.column("day", sa.Date), sa.column("workday", sa.Boolean),
                        sa.column("name", sa.Text))  # fmt: skip
    stmt = postgresql.insert(calendar).values([{"day": d, "workday": w, "name": n} for d, w, n in days])
    op.execute(stmt.on_conflict_do_nothing(index_elements=["day"]))
    op.bulk_insert(years, [{"year": y, "source": package_name()} for y in sorted({d.year for d, _, _ in days})])


def _patrols() -> None:
    op.create_table(
        "patrol",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("idempotency_key", sa.String(128)),
        _ts("started_at", nullable=False),
        _ts("ended_at", nullable=False),
        sa.Column("n_fixes", sa.Integer(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("crs_in", sa.String(32), nullable=False),
        sa.Column("geom", _geom("LINESTRING"), nullable=False),
        _now("created_at"),
        sa.UniqueConstraint("account_id", "idempotency_key", name="patrol_idempotency"),
    )
    op.create_index("patrol_geom_gist", "patrol", ["geom"], postgresql_using="gist")
    op.create_index("patrol_started_idx", "patrol", ["started_at"])
    op.create_table(
        "patrol_grid",
        sa.Column("patrol_id", sa.Integer(), sa.ForeignKey("patrol.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("layer_id", sa.Integer(), sa.ForeignKey("grid_layer.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("grid_code", sa.String(32), primary_key=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
    )
    op.create_index("patrol_grid_grid_idx", "patrol_grid", ["layer_id", "grid_code"])


def upgrade() -> None:
    _notifications()
    _case_columns()
    _joint_and_duty()
    _filings_limits_calendar()
    _patrols()


def downgrade() -> None:
    for table in ("patrol_grid", "patrol", "work_calendar_year", "case_filing", "duty_rule", "duty_site", "case_unit",
                  "notification_delivery", "notification", "webhook"):  # fmt: skip
        op.drop_table(table)
    op.drop_constraint("time_limit_exempt_reason", "time_limit")
    op.drop_column("time_limit", "exempt_reason")
    op.drop_column("time_limit", "exempt_from_cap")
    op.drop_column("account", "admin_area_id")
    op.drop_constraint("case_photo_kind", "case_photo")
    op.create_check_constraint("case_photo_kind", "case_photo", "kind IN ('report', 'check')")
    op.drop_index("case_report_district_idx", "case_report")
    op.drop_index("case_report_warn_idx", "case_report")
    for name in ("case_report_satisfaction", "case_report_centre"):
        op.drop_constraint(name, "case_report")
    for column in ("satisfaction_note", "satisfaction_at", "satisfaction", "on_spot", "centre_level", "warned_at",
                   "warn_at"):  # fmt: skip
        op.drop_column("case_report", column)
