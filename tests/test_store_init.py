"""The store initialises from nothing, twice, and carries PostGIS and the schema."""

from __future__ import annotations

import uuid

from sqlalchemy import inspect, text
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.store.db import drop_database, get_engine
from tests.conftest import _url_for


def test_db_init_is_idempotent(monkeypatch) -> None:
    url = _url_for(f"geogrid_init_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("GEOGRID_DATABASE_URL", url)
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["db", "init"])
        assert first.exit_code == 0, first.output
        assert "(created)" in first.output
        second = runner.invoke(app, ["db", "init"])
        assert second.exit_code == 0, second.output
        assert "(exists)" in second.output
        engine = get_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {"admin_area", "grid_layer", "plan", "grid", "unit", "person", "account"} <= tables
        with engine.connect() as conn:
            srid = conn.execute(text("SELECT Find_SRID('public', 'grid', 'geom')")).scalar_one()
            gist = conn.execute(
                text("SELECT count(*) FROM pg_indexes WHERE indexdef ILIKE '%USING gist%' AND tablename = 'grid'")
            ).scalar_one()
        assert srid == 4490
        assert gist == 1
    finally:
        drop_database(url)


def test_user_add_prints_key_once_and_stores_only_hash(store_url: str) -> None:
    result = CliRunner().invoke(app, ["user", "add", "alice", "--role", "planner"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("gg_") and len(key) > 30
    with get_engine(store_url).connect() as conn:
        row = conn.execute(text("SELECT role, key_hash FROM account WHERE name = 'alice'")).one()
    assert row.role == "planner"
    assert key not in row.key_hash
    bad = CliRunner().invoke(app, ["user", "add", "bob", "--role", "mayor"])
    assert bad.exit_code != 0
    assert "unknown role" in bad.output
