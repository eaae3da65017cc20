"""``geogrid rules import`` / ``list``: CSV and YAML catalogues, errors naming file, row and field."""

from __future__ import annotations

import json

import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.routing.catalogue import DEFAULT_CATALOGUE
from geogrid.routing.models import RoutingRule, TimeLimit
from geogrid.store.db import session_scope
from geogrid.store.models import Unit

runner = CliRunner()


def test_list_shows_builtin_defaults_on_an_empty_store(store_url) -> None:
    r = runner.invoke(app, ["rules", "list", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {x["source"] for x in data["rules"]} == {"defaults"}
    assert {x["category"] for x in data["rules"]} >= {"component:01", "event:0102", "event:06"}


def test_import_yaml_then_csv_upserts(store_url, tmp_path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(DEFAULT_CATALOGUE, allow_unicode=True), encoding="utf-8")
    r = runner.invoke(app, ["rules", "import", str(path)])
    assert r.exit_code == 0, r.output
    n_rules = len(DEFAULT_CATALOGUE["rules"])
    assert f"{n_rules} rules" in r.output
    limits = tmp_path / "limits.csv"
    limits.write_text("category,urgency,value,unit,working\n事件:0102,normal,3,hours,true\n", encoding="utf-8")
    assert runner.invoke(app, ["rules", "import", str(limits)]).exit_code == 0
    with session_scope(store_url) as session:
        assert len(session.scalars(select(RoutingRule)).all()) == n_rules
        owner = session.scalar(select(Unit).join(RoutingRule, RoutingRule.owner_unit_id == Unit.id).limit(1))
        assert owner is not None and owner.kind == "department"
        lim = session.scalar(select(TimeLimit).where(TimeLimit.code == "0102", TimeLimit.urgency == "normal"))
        assert lim.value == 3 and lim.unit == "hours"
    listed = runner.invoke(app, ["rules", "list"])
    assert "store     event:0102" in listed.output


def test_import_errors_name_file_row_and_field(store_url, tmp_path) -> None:
    bad = tmp_path / "rules.csv"
    bad.write_text("category,name,territorial_level\nevent:01,市容环境,grid\nevent:0x,坏,grid\n", encoding="utf-8")
    r = runner.invoke(app, ["rules", "import", str(bad)])
    assert r.exit_code != 0
    assert "rules.csv row 2 field 'category'" in r.output
    ghost = tmp_path / "ghost.yaml"
    ghost.write_text("rules:\n  - {category: event:01, name: x, owner_unit: nobody}\n", encoding="utf-8")
    r = runner.invoke(app, ["rules", "import", str(ghost)])
    assert r.exit_code != 0 and "owner_unit" in r.output and "nobody" in r.output
    with session_scope(store_url) as session:
        assert session.scalars(select(RoutingRule)).all() == []  # all or nothing
    r = runner.invoke(app, ["rules", "import", str(tmp_path / "x.txt")])
    assert r.exit_code != 0 and "x.txt" in r.output
