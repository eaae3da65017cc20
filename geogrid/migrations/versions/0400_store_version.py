"""store_version: one row of change counters bumped by triggers, so workers ask "anything changed?" in one read

Revision ID: 0400
Revises: 0001
Depends on: 0100 (routing tables), 0800 (duty tables)

Three counters, each bumped (and announced with ``pg_notify('geogrid_store', <part>)``) by the transaction that
changes what it covers, so a worker's REPEATABLE READ build sees counters and data of the same commit:

- ``spatial``: admin areas, layers, plans changing status, grids of published plans;
- ``directory``: units, people, grid assignments and responsibilities (the answers' who-is-responsible part);
- ``routing``: routing rules, time limits, duty rules and sites (and units, whose codes rules name).

Grid writes in draft plans do not bump ``spatial`` (the planner edits drafts all day; no worker needs to rebuild).
"""

from alembic import op

revision = "0400"
down_revision = "0001"
branch_labels = None
depends_on = ("0100", "0800")

BUMP = """
CREATE FUNCTION geogrid_store_bump(part text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('UPDATE store_version SET %1$I = %1$I + 1 WHERE id = 1', part);
  PERFORM pg_notify('geogrid_store', part);
END $$;

CREATE FUNCTION geogrid_store_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE part text;
BEGIN
  FOREACH part IN ARRAY TG_ARGV LOOP
    PERFORM geogrid_store_bump(part);
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION geogrid_grid_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE hit boolean := false;
BEGIN
  -- nested IFs: a transition table a trigger does not have must never be named in an evaluated expression
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    hit := EXISTS (SELECT 1 FROM new_rows n JOIN plan p ON p.id = n.plan_id WHERE p.status = 'published');
  END IF;
  IF NOT hit AND TG_OP IN ('DELETE', 'UPDATE') THEN
    hit := EXISTS (SELECT 1 FROM old_rows o JOIN plan p ON p.id = o.plan_id WHERE p.status = 'published');
  END IF;
  IF hit THEN
    PERFORM geogrid_store_bump('spatial');
  END IF;
  RETURN NULL;
END $$;
"""

STATEMENT_TABLES = {
    "admin_area": "'spatial'",
    "grid_layer": "'spatial'",
    "unit": "'directory', 'routing'",
    "person": "'directory'",
    "grid_assignment": "'directory'",
    "grid_responsibility": "'directory'",
    "routing_rule": "'routing'",
    "time_limit": "'routing'",
    "duty_rule": "'routing'",
    "duty_site": "'routing'",
}


def upgrade() -> None:
    op.execute(
        "CREATE TABLE store_version (id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1), "
        "spatial bigint NOT NULL DEFAULT 1, directory bigint NOT NULL DEFAULT 1, routing bigint NOT NULL DEFAULT 1)"
    )
    op.execute("COMMENT ON TABLE store_version IS 'change counters for the workers'' in-memory indexes'")
    op.execute("INSERT INTO store_version DEFAULT VALUES")
    op.execute(BUMP)
    for table, parts in STATEMENT_TABLES.items():
        op.execute(
            f"CREATE TRIGGER {table}_store_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION geogrid_store_changed({parts})"
        )
    op.execute(
        "CREATE TRIGGER plan_store_version_ins AFTER INSERT ON plan FOR EACH ROW WHEN (NEW.status = 'published') "
        "EXECUTE FUNCTION geogrid_store_changed('spatial')"
    )
    op.execute(
        "CREATE TRIGGER plan_store_version_upd AFTER UPDATE ON plan FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status OR (NEW.status = 'published' AND "
        "(OLD.version, OLD.name, OLD.layer_id) IS DISTINCT FROM (NEW.version, NEW.name, NEW.layer_id))) "
        "EXECUTE FUNCTION geogrid_store_changed('spatial')"
    )
    op.execute(
        "CREATE TRIGGER plan_store_version_del AFTER DELETE ON plan FOR EACH ROW WHEN (OLD.status = 'published') "
        "EXECUTE FUNCTION geogrid_store_changed('spatial')"
    )
    op.execute(
        "CREATE TRIGGER plan_store_version_trunc AFTER TRUNCATE ON plan FOR EACH STATEMENT "
        "EXECUTE FUNCTION geogrid_store_changed('spatial')"
    )
    for op_name, ref in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER grid_store_version_{op_name.lower()} AFTER {op_name} ON grid REFERENCING {ref} "
            "FOR EACH STATEMENT EXECUTE FUNCTION geogrid_grid_changed()"
        )
    op.execute(
        "CREATE TRIGGER grid_store_version_trunc AFTER TRUNCATE ON grid FOR EACH STATEMENT "
        "EXECUTE FUNCTION geogrid_store_changed('spatial')"
    )


def downgrade() -> None:
    for table in STATEMENT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_store_version ON {table}")
    for name in ("ins", "upd", "del", "trunc"):
        op.execute(f"DROP TRIGGER IF EXISTS plan_store_version_{name} ON plan")
    for name in ("insert", "update", "delete", "trunc"):
        op.execute(f"DROP TRIGGER IF EXISTS grid_store_version_{name} ON grid")
    op.execute("DROP FUNCTION geogrid_grid_changed(), geogrid_store_changed(), geogrid_store_bump(text)")
    op.execute("DROP TABLE store_version")
