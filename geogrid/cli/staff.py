"""``geogrid staff check [--layer L] [--json]``: staffing problems per grid; exits 1 when there are any (for cron)."""

from __future__ import annotations

import typer

from geogrid.cli.common import fail, print_json
from geogrid.store.db import session_scope


def register(app: typer.Typer) -> None:
    staff = typer.Typer(no_args_is_help=True, help="Grid staff. 网格人员（网格长、网格员等）。")
    app.add_typer(staff, name="staff")

    @staff.command("check")
    def check(
        layer: str = typer.Option("responsibility", help="grid layer"),
        as_json: bool = typer.Option(False, "--json", help="the whole report as JSON"),
    ) -> None:
        """One chief per grid, enough members, known roles, no assignment to a missing grid. 检查网格配员。"""
        from geogrid.staffing import StaffingError, StaffingSettings, staffing_report

        try:
            with session_scope() as session:
                report = staffing_report(session, layer, StaffingSettings.from_env())
        except StaffingError as exc:
            fail(str(exc))
        bad = [g for g in report["grids"] if not g["ok"]]
        if as_json:
            print_json(report)
        else:
            for g in bad:
                typer.echo(f"{g['grid_code']}: {'; '.join(g['problems'])}")
            for o in report["orphan_assignments"]:
                typer.echo(f"assignment {o['id']}: {o['role']} on {o['grid_code']}, which is in no live plan")
            typer.echo(f"{len(report['grids'])} grids, {len(bad)} with problems, "
                       f"{len(report['orphan_assignments'])} orphan assignments")  # fmt: skip
        if bad or report["orphan_assignments"]:
            raise typer.Exit(1)
