"""``geogrid user add NAME --role R``: create an API account and print its key once."""

from __future__ import annotations

import typer

from geogrid.cli.common import fail
from geogrid.store.accounts import create_account
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
