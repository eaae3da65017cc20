"""``geogrid plan copy|diff|impact|history`` and the publication report: the planner's workbench from a shell.

Editing itself (move, merge, split …) is interactive and lives in the API and the web map; the command line copies,
compares, shows the impact and publishes with a note. The journal names command-line actions ``USER@cli``.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from geogrid.cli.common import fail, print_json
from geogrid.planner.errors import PlannerError
from geogrid.store.db import session_scope

SHOWN = 15


def cli_actor() -> tuple[str, None]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@cli", None


def _run(work):
    """Run ``work(session)`` in one transaction; workbench refusals exit non-zero with their reason."""
    from geogrid.cli.plan import _guard

    def go():
        with session_scope() as session:
            return work(session)

    try:
        return _guard(go)
    except PlannerError as exc:
        fail(exc.message)


def print_publication(result: dict, name: str) -> None:
    pub, filing = result["publication"], result["filing"]
    if not pub["changed"]:
        typer.echo(f"plan {name} is already published (layer {pub['layer']}, version {pub['version']})")
        return
    retired = f"; retired {pub['retired']}" if pub["retired"] else ""
    typer.echo(f"published plan {pub['plan']} (layer {pub['layer']}, version {pub['version']}){retired}")
    for warning in pub["warnings"]:
        typer.echo(f"  forced despite: {warning}")
    s = filing["summary"]
    carried = s["carried"]
    typer.echo(f"filing record #{filing['id']} by {filing['actor']} at {filing['at']}: {filing['note']}")
    if s.get("grids"):
        typer.echo("  grids: " + ", ".join(f"{k} {v}" for k, v in s["grids"].items()))
    typer.echo(
        f"  carried over: {carried['people']} people assignment(s), {carried['units']} unit(s); "
        f"{s['cases_linked']} open case(s) gained their new grid"
    )


def _print_diff(d: dict) -> None:
    a, b = d["a"], d["b"]
    typer.echo(f"{a['name']} (v{a['version']}, {a['grids']} grids) → {b['name']} (v{b['version']}, {b['grids']} grids)")
    typer.echo("  " + ", ".join(f"{k} {v}" for k, v in d["summary"].items()))
    for kind in ("added", "removed"):
        if d[kind]:
            typer.echo(f"  {kind}: {', '.join(d[kind][:SHOWN])}" + (" …" if len(d[kind]) > SHOWN else ""))
    for r in d["recoded"][:SHOWN]:
        typer.echo(f"  recoded: {r['from']} → {r['to']}")
    for r in d["reshaped"][:SHOWN]:
        typer.echo(f"  reshaped: {r['code']} keeps {100 * r['kept_share']:.1f}% of its land")
    typer.echo("lineage (from → to: shared m², share of from, share of to):")
    moved = [r for r in d["lineage"] if not (r["from_code"] == r["to_code"] and r["share_of_from"] >= 0.9999)]
    for r in moved[: SHOWN * 2]:
        typer.echo(
            f"  {r['from_code']} → {r['to_code']}: {r['shared_area_m2']:,.0f} m², "
            f"{100 * r['share_of_from']:.1f}%, {100 * r['share_of_to']:.1f}%"
        )
    if len(moved) > SHOWN * 2:
        typer.echo(f"  … {len(moved) - SHOWN * 2} more (see --json or --csv)")


def _print_impact(r: dict) -> None:
    if r["against"] is None:
        typer.echo(f"{r['plan']}: the layer has no published plan; publishing changes no case or assignment")
        return
    s = r["summary"]
    typer.echo(f"{r['plan']} against the published {r['against']['name']} (v{r['against']['version']}):")
    typer.echo(f"  open cases whose grid changes: {s['cases']}")
    for c in r["cases"][:SHOWN]:
        typer.echo(f"    case {c['id']} ({c['status']}, {c['category']}): {c['old_code']} → {c['new_code']}")
    for what in ("people", "units"):
        typer.echo(f"  {what}: " + (", ".join(f"{k} {v}" for k, v in s[what].items()) or "none"))
        for item in [i for i in r[what] if i["fate"] != "kept"][:SHOWN]:
            who = item.get("person") or item.get("unit")
            to = f" → {item['to_code']}" if item.get("to_code") else ""
            what = item.get("role") or item.get("unit_code")
            typer.echo(f"    {item['fate']}: {who} ({what}) {item['grid_code']}{to}")
    typer.echo(f"  routing entries naming a vanishing grid code: {s['routing_rules']}")


def add_plan_commands(group: typer.Typer) -> None:
    """Add the workbench commands to ``geogrid plan``."""

    @group.command("copy")
    def copy_cmd(source: str, name: str) -> None:
        """Copy any plan into a new draft (next version of its layer) with its road network. 复制方案为新草案。"""
        from geogrid.planner.drafts import copy_plan

        draft = _run(lambda s: copy_plan(s, source, name, cli_actor()))
        typer.echo(f"draft {draft.name} (version {draft.version}) copied from {source}")

    @group.command("diff")
    def diff_cmd(
        a: str,
        b: str,
        as_json: bool = typer.Option(False, "--json", help="print the whole diff as JSON / 以 JSON 输出"),
        csv: Path | None = typer.Option(None, "--csv", help="write the lineage rows to this CSV file / 沿袭表 CSV"),
    ) -> None:
        """Grids added, removed, reshaped, recoded and unchanged from plan A to plan B, and the lineage.
        对比两个方案：新增、删除、调整、改码、未变的网格及沿袭关系。
        """
        from geogrid.planner.diff import diff, lineage_csv

        d = _run(lambda s: diff(s, a, b))
        if csv is not None:
            csv.write_text(lineage_csv(d["lineage"]), encoding="utf-8")
        print_json(d) if as_json else _print_diff(d)

    @group.command("impact")
    def impact_cmd(
        name: str, as_json: bool = typer.Option(False, "--json", help="print as JSON / 以 JSON 输出")
    ) -> None:
        """What publishing NAME changes: open cases, people and unit assignments, routing entries.
        发布影响：在办案件、人员与单位、路由规则。
        """
        from geogrid.planner.impact import impact

        r = _run(lambda s: impact(s, name))
        print_json(r) if as_json else _print_impact(r)

    @group.command("history")
    def history_cmd(
        name: str, as_json: bool = typer.Option(False, "--json", help="print as JSON / 以 JSON 输出")
    ) -> None:
        """Filing records (who, when, note, diff summary) and the edit journal of a plan. 备案记录与编辑记录。"""
        from geogrid.planner.publish import history

        h = _run(lambda s: history(s, name))
        if as_json:
            print_json(h)
            return
        p = h["plan"]
        origin = f", copied from {p['copied_from']}" if p["copied_from"] else ""
        typer.echo(f"plan {p['name']} (layer {p['layer']}, v{p['version']}, {p['status']}{origin})")
        for f in h["filings"]:
            typer.echo(f"  {f['at']} {f['action']} by {f['actor']}: {f['note']}")
        for e in h["edits"][:SHOWN]:
            typer.echo(f"  #{e['seq']} {e['created_at']} {e['op']} ({e['state']}) by {e['actor']}")
