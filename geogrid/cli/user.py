"""``geogrid user add NAME --role R``: create an API account and print its key once."""

from __future__ import annotations

import typer

from geogrid.cli.common import fail
from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import ROLES


def register(app: typer.Typer) -> None:
    user = typer.Typer(no_args_is_help=True, help="API accounts and their roles.")
    app.add_typer(user, name="user")

    @user.command("add")
    def add(
        name: str,
        role: str = typer.Option(..., "--role", help=f"one of: {', '.join(ROLES)}"),
        unit: int | None = typer.Option(None, "--unit", help="unit id, for role 'unit'"),
    ) -> None:
        """Create an account; its API key is printed once and cannot be shown again."""
        try:
            with session_scope() as session:
                account, key = create_account(session, name, role, unit)
        except ValueError as exc:
            fail(str(exc))
        typer.echo(f"account {account.name} (role {account.role}); API key, shown once:")
        typer.echo(key)
