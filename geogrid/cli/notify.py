"""``geogrid notify run`` (the delivery worker, with deadline warnings and escalation), ``geogrid notify list``,
``geogrid webhooks add URL --secret S`` / ``geogrid webhooks list``.

Run as many ``notify run`` processes as you like (and/or ``GEOGRID_NOTIFY_WORKER=1`` in the API): deliveries are
claimed with ``FOR UPDATE SKIP LOCKED`` and leases, so each attempt is made by one worker.
"""

from __future__ import annotations

import signal
import threading

import typer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from geogrid.cli.common import fail, print_json
from geogrid.settings import database_url
from geogrid.store.db import session_scope


def register(app: typer.Typer) -> None:
    notify = typer.Typer(
        no_args_is_help=True, help="Notifications: the outbox and its delivery worker. 通知：发件箱与投递进程。"
    )
    hooks = typer.Typer(no_args_is_help=True, help="Webhooks that receive notifications. 接收通知的 Webhook。")
    app.add_typer(notify, name="notify")
    app.add_typer(hooks, name="webhooks")

    @notify.command("run")
    def run(once: bool = typer.Option(False, "--once", help="one pass, then exit (for cron)")) -> None:
        """Warn, escalate and deliver until stopped (Ctrl-C / SIGTERM); prints totals at exit.
        临期预警、督办并投递通知，直到停止。
        """
        from geogrid.notify.settings import NotifySettings
        from geogrid.notify.worker import run as run_worker

        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            settings = NotifySettings.from_env()
        except ValueError as exc:
            fail(str(exc))
        print_json(run_worker(database_url(), settings, stop, once=once))

    @notify.command("list")
    def list_() -> None:
        """Deliveries by status (pending, delivered, dead). 按状态统计投递。"""
        from geogrid.notify.models import Delivery

        try:
            with session_scope() as session:
                rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        except OperationalError as exc:
            fail(f"cannot reach the store: {str(exc.orig).strip().splitlines()[0]}")
        print_json({status: count for status, count in rows})

    @hooks.command("add")
    def add(url: str, secret: str = typer.Option(..., help="HMAC-SHA256 key, 16+ characters")) -> None:
        """Register a webhook receiving every notification. 注册接收全部通知的 Webhook。"""
        from geogrid.notify.models import Webhook

        if len(secret) < 16:
            fail("--secret must be at least 16 characters")
        if not url.startswith(("http://", "https://")):
            fail(f"{url}: not an http(s) URL")
        with session_scope() as session:
            hook = Webhook(url=url, secret=secret)
            session.add(hook)
            session.flush()
            typer.echo(f"webhook {hook.id}: {url}")

    @hooks.command("list")
    def list_hooks() -> None:
        """Registered webhooks (secrets are not shown). 已注册的 Webhook（不显示密钥）。"""
        from geogrid.notify.models import Webhook

        with session_scope() as session:
            print_json([{"id": w.id, "url": w.url, "active": w.active} for w in session.scalars(select(Webhook))])
