"""``geogrid cases escalate`` (one overdue-detection/escalation pass) and ``geogrid calendar import FILE``.

Run ``geogrid cases escalate`` from cron (e.g. every 10 minutes); passes are safe to overlap (rows are locked with
SKIP LOCKED) and idempotent (a case escalates again only when its next check time has passed).
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError

from geogrid.cli.common import fail, print_json
from geogrid.store.db import session_scope


def register(app: typer.Typer) -> None:
    cases = typer.Typer(no_args_is_help=True, help="Reported cases. 案件。")
    calendar = typer.Typer(
        no_args_is_help=True, help="The working calendar (holidays, make-up workdays). 工作日历（节假日、调休上班日）。"
    )
    app.add_typer(cases, name="cases")
    app.add_typer(calendar, name="calendar")

    @cases.command("escalate")
    def escalate() -> None:
        """Flag overdue cases and escalate them community → street → district; prints a JSON summary.
        标记超期案件并逐级督办（社区→街道→区）。
        """
        from geogrid.cases.escalation import escalate_overdue

        try:
            with session_scope() as session:
                summary = escalate_overdue(session)
        except OperationalError as exc:
            fail(f"cannot reach the store: {str(exc.orig).strip().splitlines()[0]}")
        print_json(summary)

    @calendar.command("import")
    def import_(
        path: Path = typer.Argument(
            ..., help="YAML (holidays and workdays lists) or CSV (date,workday,name). YAML（节假日与调休清单）或 CSV"
        ),
    ) -> None:
        """Upsert public holidays and make-up workdays from FILE. 从文件导入节假日与调休上班日。"""
        from geogrid.cases.calendar import import_days, read_calendar_file

        try:
            days = read_calendar_file(path)
        except ValueError as exc:
            fail(str(exc))
        if not days:
            fail(f"{path}: no days listed")
        try:
            with session_scope() as session:
                count = import_days(session, days)
        except OperationalError as exc:
            fail(f"cannot reach the store: {str(exc.orig).strip().splitlines()[0]}")
        holidays = sum(1 for _, workday, _ in days if not workday)
        typer.echo(f"{path}: {count} calendar days written ({holidays} holidays, {len(days) - holidays} workdays)")
