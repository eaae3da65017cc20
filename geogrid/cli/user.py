"""``geogrid user add|revoke|rotate|expire``: API accounts and their keys' lifecycle.

A key change reaches running API workers within 5 s (their key cache lives 4 s).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import typer

from geogrid.cli.common import fail
from geogrid.store.accounts import create_account, revoke, rotate, set_expiry
from geogrid.store.db import session_scope
from geogrid.store.models import ROLES


def register(app: typer.Typer) -> None:
    user = typer.Typer(no_args_is_help=True, help="API accounts and their roles. API 账户与角色。")
    app.add_typer(user, name="user")

    @user.command("add")
    def add(
        name: str,
        role: str = typer.Option(..., "--role", help=f"one of: {', '.join(ROLES)} / 角色"),
        unit: int | None = typer.Option(None, "--unit", help="unit id, for role 'unit' / 单位 id（unit 角色）"),
    ) -> None:
        """Create an account; its API key is printed once and cannot be shown again.
        创建账户，API 密钥只显示一次；同名账户已存在时报错退出。
        """
        try:
            with session_scope() as session:
                account, key = create_account(session, name, role, unit)
        except ValueError as exc:
            fail(str(exc))
        typer.echo(f"account {account.name} (role {account.role}); API key, shown once:")
        typer.echo(key)

    @user.command("revoke")
    def revoke_cmd(name: str) -> None:
        """Deactivate an account: its keys stop working within 5 s. 停用账户，5 秒内密钥失效。"""
        try:
            with session_scope() as session:
                revoke(session, name)
        except ValueError as exc:
            fail(str(exc))
        typer.echo(f"account {name} revoked")

    @user.command("rotate")
    def rotate_cmd(
        name: str,
        grace_hours: float = typer.Option(24.0, "--grace-hours", min=0, help="old key valid this long / 旧密钥宽限期"),
    ) -> None:
        """Print a new key; the old one keeps working for the grace period. 生成新密钥，旧密钥在宽限期内仍有效。"""
        try:
            with session_scope() as session:
                account, key = rotate(session, name, timedelta(hours=grace_hours))
                until = account.previous_key_expires_at
        except ValueError as exc:
            fail(str(exc))
        typer.echo(f"account {name}: new API key, shown once (the old key works until {until:%Y-%m-%d %H:%M %Z}):")
        typer.echo(key)

    @user.command("expire")
    def expire_cmd(
        name: str,
        at: str = typer.Option(..., "--at", help="ISO date or time, or 'never' / ISO 日期时间，或 never"),
    ) -> None:
        """Set the date the account's key stops working. 设置密钥到期时间。"""
        when = None
        if at != "never":
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                fail(f"--at: {at!r} is not an ISO date or time (e.g. 2027-01-31 or 2027-01-31T18:00+08:00)")
            when = when if when.tzinfo else when.astimezone()
        try:
            with session_scope() as session:
                set_expiry(session, name, when)
        except ValueError as exc:
            fail(str(exc))
        typer.echo(f"account {name}: key expires {when.isoformat() if when else 'never'}")
