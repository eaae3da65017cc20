"""``geogrid plan validate|publish|list|retire``: check a plan's topology and manage its lifecycle."""

from __future__ import annotations

import typer
from sqlalchemy.exc import DBAPIError

from geogrid.cli.common import fail, print_json
from geogrid.store.db import StoreError, session_scope
from geogrid.store.plans import list_plans, retire
from geogrid.validation import validate_plan

SHOWN = 10


def _at(item: dict) -> str:
    lon, lat = item["location"]
    return f"at {lon:.6f}, {lat:.6f}"


def _section(title: str, items: list[dict], total: int, line) -> None:
    typer.echo(f"{title}: {total}")
    for item in items[:SHOWN]:
        typer.echo(f"  {line(item)}")
    if total > SHOWN:
        typer.echo(f"  … {total - SHOWN} more (see --json)")


def print_report(r: dict) -> None:
    """The validation report as a planner reads it: one section per check, largest problems first."""
    typer.echo(f"plan {r['plan']} (layer {r['layer']}, version {r['version']}, {r['status']}): {r['grids']} grid(s)")
    if r.get("error"):
        typer.echo(f"  {r['error']}")
        return
    s, cov = r["summary"], r["coverage"]
    if cov:
        typer.echo(
            f"coverage: {100 * cov['ratio']:.3f}% of the jurisdiction ({cov['level']} areas: "
            f"{cov['covered_m2']:,.0f} of {cov['jurisdiction_m2']:,.0f} m²)"
        )
    else:
        typer.echo("coverage: unknown (no admin areas under the plan)")
    _section(
        "invalid geometries",
        r["invalid"],
        s["invalid"],
        lambda i: f"{i['code']}: {i['reason']}" + (" (repaired at import)" if i["repaired"] else ""),
    )
    _section(
        f"overlaps ({s['overlap_m2']:,.1f} m²)",
        r["overlaps"],
        s["overlaps"],
        lambda i: f"{i['codes'][0]} × {i['codes'][1]}: {i['area_m2']:,.1f} m² {_at(i)}",
    )
    _section(f"gaps ({s['gap_m2']:,.1f} m²)", r["gaps"], s["gaps"], lambda i: f"{i['area_m2']:,.1f} m² {_at(i)}")
    _section(
        "community border crossings",
        r["crossings"],
        s["crossings"],
        lambda i: (
            f"{i['code']}: {i['outside_m2']:,.1f} m² ({100 * i['outside_share']:.2f}%) outside community "
            f"{i['community']} {_at(i)}"
        ),
    )
    _section(
        "outside the jurisdiction",
        r["outside_jurisdiction"],
        s["outside_jurisdiction"],
        lambda i: f"{i['code']}: {i['outside_m2']:,.1f} m² ({100 * i['outside_share']:.2f}%) {_at(i)}",
    )
    if r["no_community"]:
        typer.echo(f"grids in no community: {', '.join(r['no_community'][:SHOWN])}")
    tol = r["tolerances"]
    typer.echo(
        f"tolerances: pieces under {tol['gap_min_m2']} m² ignored; crossing = over {tol['outside_min_m2']} m² and "
        f"{100 * tol['outside_min_share']:.1f}% of the grid; computed in {r['metric_crs']}"
    )
    verdict = "blocked: " + "; ".join(r["blocking"]) if r["blocking"] else "can be published"
    typer.echo(f"publish: {verdict}")


def publish_with_note(name: str, note: str, force: bool) -> dict:
    from geogrid.cli.workbench import cli_actor
    from geogrid.planner.publish import publish_draft

    with session_scope() as session:
        return publish_draft(session, name, note, cli_actor(), force=force)


def _guard(action):
    try:
        return action()
    except (ValueError, StoreError) as exc:
        fail(str(exc))
    except DBAPIError as exc:
        fail(f"store error: {str(exc.orig).strip()}")


def register(app: typer.Typer) -> None:
    from geogrid.cli.workbench import add_plan_commands

    group = typer.Typer(
        no_args_is_help=True, help="Validate, copy, compare, publish and list plans. 网格方案的校验与发布。"
    )
    app.add_typer(group, name="plan")
    add_plan_commands(group)

    @group.command("validate")
    def validate(
        name: str, as_json: bool = typer.Option(False, "--json", help="print the report as JSON / 以 JSON 输出报告")
    ) -> None:
        """Report invalid geometries, gaps, overlaps, community crossings and coverage; kept on the plan.
        检查无效几何、缝隙、重叠、跨社区与覆盖率。
        """

        def run() -> dict:
            with session_scope() as session:
                return validate_plan(session, name)

        report = _guard(run)
        print_json(report) if as_json else print_report(report)

    @group.command("publish")
    def publish(
        name: str,
        note: str = typer.Option(..., "--note", help="why: kept in the filing record / 备案说明（必填）"),
        force: bool = typer.Option(
            False, "--force", help="publish despite overlaps or crossings / 忽略重叠或跨社区强制发布"
        ),
    ) -> None:
        """Publish a plan with a note, retiring the layer's current one and carrying assignments over by lineage.
        发布方案（附备案说明），停用当前方案，人员与单位按沿袭关系随迁。
        """
        from geogrid.cli.workbench import print_publication

        print_publication(_guard(lambda: publish_with_note(name, note, force)), name)

    @group.command("retire")
    def retire_cmd(name: str) -> None:
        """Retire a plan; a published one gets its valid_to and leaves the layer without a published plan. 停用方案。"""
        plan = _guard(lambda: retire(None, name))
        typer.echo(f"plan {plan.name} is retired")

    @group.command("list")
    def list_cmd(
        layer: str | None = typer.Option(None, "--layer", help="only this layer / 仅此图层"),
        as_json: bool = typer.Option(False, "--json", help="print as JSON / 以 JSON 输出"),
    ) -> None:
        """Every plan with its layer, version, status, validity and grid count.
        列出所有方案及其版本、状态、有效期与网格数。
        """

        def run() -> list[dict]:
            with session_scope() as session:
                return list_plans(session, layer)

        plans = _guard(run)
        if as_json:
            print_json(plans)
            return
        if not plans:
            typer.echo("no plans")
        for p in plans:
            since = f" since {p['valid_from']:%Y-%m-%d %H:%M}" if p["status"] == "published" else ""
            typer.echo(
                f"{p['layer']:<16} v{p['version']:<3} {p['status']:<9} {p['grids']:>6} grids  {p['name']}{since}"
            )
