"""``geogrid rules import FILE.csv|yaml`` and ``geogrid rules list``: the routing catalogue as data."""

from __future__ import annotations

import typer

from geogrid.cli.common import fail, print_json
from geogrid.routing.catalogue import (
    DEFAULT_CATALOGUE,
    CatalogueError,
    default_limits,
    default_rules,
    import_catalogue,
    read_catalogue_file,
    stored_limits,
    stored_rules,
)
from geogrid.store.db import session_scope


def register(app: typer.Typer) -> None:
    rules = typer.Typer(
        no_args_is_help=True, help="Routing rules and time limits (部件/事件 → unit, deadline). 派遣规则与处置时限。"
    )
    app.add_typer(rules, name="rules")

    @rules.command("import")
    def import_(
        path: str = typer.Argument(None, help="a .csv (rules or time limits) or .yaml/.yml catalogue / 规则文件"),
        defaults: bool = typer.Option(False, "--defaults", help="import the built-in catalogue / 导入内置规则目录"),
    ) -> None:
        """Upsert units, rules and time limits; all rows or none. 导入单位、规则与时限（全部成功或全部不写入）。"""
        if (path is None) == (not defaults):
            fail("give a FILE (.csv, .yaml) or --defaults, not both")
        try:
            data = DEFAULT_CATALOGUE if defaults else read_catalogue_file(path)
            with session_scope() as session:
                counts = import_catalogue(session, data, "defaults" if defaults else path)
        except CatalogueError as exc:
            fail(str(exc))
        typer.echo(f"imported {counts['units']} units, {counts['rules']} rules, {counts['time_limits']} time limits")

    @rules.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="machine-readable output / 机器可读输出")) -> None:
        """Show the stored rules and limits, then the built-in ones used where the store has none for a category.
        显示已存与内置的规则和时限。
        """
        with session_scope() as session:
            rule_rows = stored_rules(session) + default_rules()
            limit_rows = stored_limits(session) + default_limits()
        rules_out = [
            {
                "category": f"{r.kind}:{r.code}",
                "name": r.name,
                "owner_unit": r.owner_unit_code,
                "territorial_level": r.territorial_level,
                "source": r.source,
            }
            for r in rule_rows
        ]
        limits_out = [
            {
                "category": f"{t.kind}:{t.code}",
                "urgency": t.urgency,
                "value": t.value,
                "unit": t.unit,
                "working": t.working,
                "source": t.source,
            }
            for t in limit_rows
        ]
        if as_json:
            print_json({"rules": rules_out, "time_limits": limits_out})
            return
        typer.echo("rules (source: store first, then defaults):")
        for r in rules_out:
            owner = r["owner_unit"] or "-"
            typer.echo(
                f"  {r['source']:<8}  {r['category']:<16}  {r['name']:<8}  owner={owner:<12}  "
                f"territory from {r['territorial_level']}"
            )
        typer.echo("time limits:")
        for t in limits_out:
            working = "working " if t["working"] else ""
            typer.echo(
                f"  {t['source']:<8}  {t['category']:<16}  {t['urgency']:<6}  {t['value']:g} {working}{t['unit']}"
            )
