"""case_report partitioned by month (range on created_at, UTC), existing rows moved; references kept by triggers

A partitioned table's primary key and unique constraints must include the partition key, so ``case_report`` gets
PRIMARY KEY (id, created_at) and foreign keys by ``id`` alone can no longer point at it. Every such foreign key
(found in the catalogue: case_event, case_photo, case_grid, case_report.duplicate_of_id, and any other branch's) is
replaced by the same rule enforced with triggers: an insert/update of the referencing column checks that the case
exists; deleting a case applies the old ON DELETE action (CASCADE / SET NULL / RESTRICT), read from ``case_ref``.
Ids still come from one sequence, so ``id`` stays unique in practice.

The unique (reporter_account_id, idempotency_key) constraint moves to its own table ``case_idempotency``: a
constraint on the partitioned table would have to include created_at and would no longer catch a retry.

Revision ID: 0950
Revises: 0800
"""

import sqlalchemy as sa
from alembic import op

revision = "0950"
down_revision = "0800"
branch_labels = None
depends_on = ("0600", "0700")

AHEAD = 3

CHECK_FN = """
CREATE FUNCTION case_ref_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ref integer;
BEGIN
  EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO ref USING NEW;
  IF ref IS NOT NULL AND NOT EXISTS (SELECT 1 FROM case_report WHERE id = ref) THEN
    RAISE EXCEPTION 'insert or update on table "%" violates its reference to case_report: case % does not exist',
      TG_TABLE_NAME, ref USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$
"""

CASCADE_FN = """
CREATE FUNCTION case_ref_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record; found boolean;
BEGIN
  IF current_setting('geogrid.case_move', true) = 'on' THEN RETURN NULL; END IF;
  IF EXISTS (SELECT 1 FROM case_report WHERE id = OLD.id) THEN RETURN NULL; END IF;  -- moved, not deleted
  FOR r IN SELECT * FROM case_ref ORDER BY table_name, column_name LOOP
    IF r.on_delete = 'CASCADE' THEN
      EXECUTE format('DELETE FROM %I WHERE %I = $1', r.table_name, r.column_name) USING OLD.id;
    ELSIF r.on_delete = 'SET NULL' THEN
      EXECUTE format('UPDATE %I SET %I = NULL WHERE %I = $1', r.table_name, r.column_name, r.column_name)
        USING OLD.id;
    ELSE
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', r.table_name, r.column_name)
        INTO found USING OLD.id;
      IF found THEN
        RAISE EXCEPTION 'case % is still referenced from table "%"', OLD.id, r.table_name
          USING ERRCODE = 'foreign_key_violation';
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END $$
"""

ACTIONS = {"c": "CASCADE", "n": "SET NULL", "a": "RESTRICT", "r": "RESTRICT", "d": "SET NULL"}

INDEXES = (
    "CREATE INDEX case_report_status_idx ON case_report (status)",
    "CREATE INDEX case_report_unit_idx ON case_report (unit_id)",
    "CREATE INDEX ix_case_report_grid_code ON case_report (grid_code)",
    "CREATE INDEX ix_case_report_community_id ON case_report (community_id)",
    "CREATE INDEX ix_case_report_street_id ON case_report (street_id)",
    "CREATE INDEX case_report_district_idx ON case_report (district_id)",
    "CREATE INDEX case_report_escalate_idx ON case_report (escalate_at) WHERE escalate_at IS NOT NULL",
    "CREATE INDEX case_report_warn_idx ON case_report (warn_at) WHERE warn_at IS NOT NULL",
    "CREATE INDEX case_report_geog_gist ON case_report USING gist (geography(geom))",
    "CREATE INDEX case_report_created_idx ON case_report (created_at)",
    "CREATE INDEX case_report_idempotency_idx ON case_report (reporter_account_id, idempotency_key)"
    " WHERE idempotency_key IS NOT NULL",
)


def _foreign_keys(conn) -> list[dict]:
    rows = conn.execute(
        sa.text(
            "SELECT con.conname, con.conrelid::regclass::text AS tbl, a.attname AS col, con.confdeltype AS act "
            "FROM pg_constraint con JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
            "WHERE con.contype = 'f' AND con.confrelid = 'case_report'::regclass"
        )
    ).mappings()
    return [dict(r) for r in rows]


def _outgoing(conn, table: str) -> list[tuple[str, str]]:
    """The table's own foreign keys (to account, unit, admin_area): CREATE TABLE … LIKE does not copy them."""
    rows = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = CAST(:t AS regclass) ORDER BY conname"
        ),
        {"t": table},
    )
    return [tuple(r) for r in rows]


def _months(conn) -> list:
    from datetime import UTC, datetime

    from geogrid.cases.partitions import add_months, month_of

    lo, hi = conn.execute(sa.text("SELECT min(created_at), max(created_at) FROM case_report_unpartitioned")).one()
    now = month_of(datetime.now(UTC))
    first = month_of(lo) if lo is not None else now
    last = max(month_of(hi) if hi is not None else now, add_months(now, AHEAD))
    months, m = [], first
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    return months


def upgrade() -> None:
    from geogrid.cases.partitions import _bound, add_months, partition_name

    conn = op.get_bind()
    fks = _foreign_keys(conn)
    op.create_table(
        "case_ref",
        sa.Column("table_name", sa.Text(), primary_key=True),
        sa.Column("column_name", sa.Text(), primary_key=True),
        sa.Column("on_delete", sa.Text(), nullable=False),
        sa.Column("constraint_name", sa.Text(), nullable=False, comment="the foreign key it replaces"),
        comment="references to case_report by id, enforced by triggers (case_report is partitioned)",
    )
    for fk in fks:
        op.execute(f'ALTER TABLE "{fk["tbl"]}" DROP CONSTRAINT "{fk["conname"]}"')
        conn.execute(
            sa.text("INSERT INTO case_ref VALUES (:t, :c, :a, :n)"),
            {"t": fk["tbl"], "c": fk["col"], "a": ACTIONS[fk["act"]], "n": fk["conname"]},
        )

    op.execute("ALTER TABLE case_report RENAME TO case_report_unpartitioned")
    op.execute("ALTER SEQUENCE case_report_id_seq OWNED BY NONE")
    op.execute(
        "CREATE TABLE case_report (LIKE case_report_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING COMMENTS) PARTITION BY RANGE (created_at)"
    )
    op.execute("COMMENT ON TABLE case_report IS 'cases, one partition per UTC month of created_at (migration 0950)'")
    op.execute("CREATE TABLE case_report_default PARTITION OF case_report DEFAULT")
    for month in _months(conn):
        op.execute(
            f"CREATE TABLE {partition_name(month)} PARTITION OF case_report "
            f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(add_months(month, 1))}')"
        )
    op.execute("INSERT INTO case_report SELECT * FROM case_report_unpartitioned")
    outgoing = _outgoing(conn, "case_report_unpartitioned")
    op.execute("DROP TABLE case_report_unpartitioned")
    for name, definition in outgoing:
        op.execute(f'ALTER TABLE case_report ADD CONSTRAINT "{name}" {definition}')
    op.execute("ALTER SEQUENCE case_report_id_seq OWNED BY case_report.id")
    op.execute("ALTER TABLE case_report ADD CONSTRAINT case_report_pkey PRIMARY KEY (id, created_at)")
    for sql in INDEXES:
        op.execute(sql)

    op.create_table(
        "case_idempotency",
        sa.Column("reporter_account_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="CASCADE")),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("case_id", sa.Integer(), primary_key=True),
        sa.UniqueConstraint("reporter_account_id", "idempotency_key", name="case_report_idempotency"),
        comment="one case per (reporter, Idempotency-Key): the database refuses a second one",
    )
    op.execute(
        "INSERT INTO case_idempotency SELECT reporter_account_id, idempotency_key, id FROM case_report "
        "WHERE idempotency_key IS NOT NULL"
    )
    # deleted with its case; no existence check: intake claims the key (with the case's id) before the case row
    conn.execute(sa.text("INSERT INTO case_ref VALUES ('case_idempotency', 'case_id', 'CASCADE', '')"))
    op.execute(CHECK_FN)
    op.execute(CASCADE_FN)
    refs = sa.text("SELECT table_name, column_name FROM case_ref WHERE constraint_name <> ''")
    for table, column in conn.execute(refs).all():
        op.execute(
            f'CREATE TRIGGER "{table}_{column}_case_ref" AFTER INSERT OR UPDATE OF "{column}" ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION case_ref_check('{column}')"
        )
    op.execute(
        "CREATE TRIGGER case_report_on_delete AFTER DELETE ON case_report FOR EACH ROW "
        "EXECUTE FUNCTION case_ref_on_delete()"
    )


def downgrade() -> None:
    conn = op.get_bind()
    refs = conn.execute(sa.text("SELECT * FROM case_ref")).mappings().all()
    op.execute("DROP TRIGGER case_report_on_delete ON case_report")
    for r in refs:
        if r["constraint_name"]:
            op.execute(f'DROP TRIGGER "{r["table_name"]}_{r["column_name"]}_case_ref" ON "{r["table_name"]}"')
    op.execute("DROP FUNCTION case_ref_on_delete()")
    op.execute("DROP FUNCTION case_ref_check()")
    op.drop_table("case_idempotency")
    op.execute("ALTER SEQUENCE case_report_id_seq OWNED BY NONE")
    op.execute("ALTER TABLE case_report RENAME TO case_report_partitioned")
    op.execute(
        "CREATE TABLE case_report (LIKE case_report_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING COMMENTS)"
    )
    op.execute("INSERT INTO case_report SELECT * FROM case_report_partitioned")
    outgoing = _outgoing(conn, "case_report_partitioned")
    op.execute("DROP TABLE case_report_partitioned CASCADE")
    for name, definition in outgoing:
        op.execute(f'ALTER TABLE case_report ADD CONSTRAINT "{name}" {definition}')
    op.execute("ALTER SEQUENCE case_report_id_seq OWNED BY case_report.id")
    op.execute("ALTER TABLE case_report ADD CONSTRAINT case_report_pkey PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE case_report ADD CONSTRAINT case_report_idempotency UNIQUE (reporter_account_id, idempotency_key)"
    )
    for sql in INDEXES[:-2]:
        op.execute(sql)
    for r in refs:
        if r["constraint_name"]:
            op.execute(
                f'ALTER TABLE "{r["table_name"]}" ADD CONSTRAINT "{r["constraint_name"]}" FOREIGN KEY '
                f'("{r["column_name"]}") REFERENCES case_report (id) ON DELETE {r["on_delete"]}'
            )
    op.drop_table("case_ref")
