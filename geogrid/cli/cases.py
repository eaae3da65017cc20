"""``geogrid cases escalate`` (one warning + overdue-detection/escalation pass), ``geogrid cases maintain`` (monthly
partitions of the case table created ahead), ``geogrid calendar import FILE``,
``geogrid calendar seed`` (years from the installed chinesecalendar package) and ``geogrid calendar years``.

Run ``geogrid cases escalate`` from cron (e.g. every 10 minutes); passes are safe to overlap (rows are locked with
SKIP LOCKED) and idempotent (a case escalates again only when its next check time has passed).
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError

from geogrid.cli.common import fail, print_json
from geogrid.store.db import session_scope


def _register_maintain(cases: typer.Typer) -> None:
    @cases.command("maintain")
    def maintain(
        ahead: int = typer.Option(3, "--ahead", min=0, max=120, help="Months after this one. 提前创建的月数。"),
    ) -> None:
        """Create the monthly partitions of the case table for this month and the next N (idempotent, for cron);
        rows waiting in the default partition move into their month. 预建案件表按月分区（可重复执行，供 cron 调用）。
        """
        from geogrid.cases.partitions import maintain as run

        try:
            with session_scope() as session:
                report = run(session.connection(), ahead=ahead)
        except ValueError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(f"cannot reach the store: {str(exc.orig).strip().splitlines()[0]}")
        print_json(report.as_dict())


def register(app: typer.Typer) -> None:
    cases = typer.Typer(no_args_is_help=True, help="Reported cases. 案件。")
    calendar = typer.Typer(
        no_args_is_help=True, help="The working calendar (holidays, make-up workdays). 工作日历（节假日、调休上班日）。"
    )
    app.add_typer(cases, name="cases")
    app.add_typer(calendar, name="calendar")
    _register_maintain(cases)

    @cases.command("escalate")
    def escalate() -> None:
        """Warn cases near their deadline, flag overdue ones and escalate them community → street → district.
        临期预警、标记超期案件并逐级督办（社区→街道→区）。
        """
        from datetime import UTC, datetime

        from geogrid.supervision.deadlines import tick

        try:
            with session_scope() as session:
                summary = tick(session, datetime.now(UTC))
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
        from geogrid.cases.calendar import import_notice, read_calendar_file

        try:
            days = read_calendar_file(path)
        except ValueError as exc:
            fail(str(exc))
        if not days:
            fail(f"{path}: no days listed")
        try:
            with session_scope() as session:
                result = import_notice(session, days, f"import {path.name}")
        except OperationalError as exc:
            fail(f"cannot reach the store: {str(exc.orig).strip().splitlines()[0]}")
        holidays = sum(1 for _, workday, _ in days if not workday)
        typer.echo(
            f"{path}: {result['days']} calendar days written ({holidays} holidays, {len(days) - holidays} workdays)"
        )
        if result["provisional_years_replaced"]:
            years = ", ".join(map(str, result["provisional_years_replaced"]))
            typer.echo(f"provisional year(s) {years} replaced; {result['deadlines_recomputed']} open deadline(s) moved")

    @calendar.command("seed")
    def seed() -> None:
        """Add the years the installed chinesecalendar package knows and the store lacks (imports are kept).
        从 chinesecalendar 补充缺少的年份（保留已导入的数据）。
        """
        from geogrid.cases.calendar import seed_from_package

        with session_scope() as session:
            print_json(seed_from_package(session))

    @calendar.command("years")
    def years() -> None:
        """The years with calendar data and where each came from. 已有日历数据的年份及来源。"""
        from sqlalchemy import select

        from geogrid.cases.models import CalendarYear

        with session_scope() as session:
            rows = session.execute(select(CalendarYear.year, CalendarYear.source).order_by(CalendarYear.year)).all()
        print_json({str(year): source for year, source in rows})
