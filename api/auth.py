"""API-key authentication and role checks; every write endpoint depends on ``require_roles``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from api.db import get_session
from api.errors import Forbidden, NotAuthenticated
from geogrid.store.accounts import account_for_key


@dataclass(frozen=True)
class Caller:
    """Who is calling: an account, or the anonymous public."""

    account_id: int | None
    name: str
    role: str
    unit_id: int | None = None
    admin_area_id: int | None = None  # operators of a district or street centre (geogrid.supervision.scope)

    @property
    def is_public(self) -> bool:
        return self.account_id is None


ANONYMOUS = Caller(account_id=None, name="anonymous", role="public")


def _key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def current_caller(
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
    session: Session = Depends(get_session),
) -> Caller:
    """The caller named by ``X-API-Key`` or ``Authorization: Bearer``; anonymous when neither is sent."""
    key = _key_from_headers(x_api_key, authorization)
    if key is None:
        return ANONYMOUS
    account = account_for_key(session, key)
    # give the connection back now: a request holding a pool connection while it waits for a threadpool thread
    # (and threads waiting for connections) starved a small pool under load (issue 9)
    session.commit()
    if account is None:
        raise NotAuthenticated("unknown or inactive API key", [{"field": "X-API-Key", "reason": "not recognised"}])
    return Caller(account.id, account.name, account.role, account.unit_id, account.admin_area_id)


def require_roles(*roles: str) -> Callable[..., Caller]:
    """A dependency admitting only the given roles (``admin`` is always admitted)."""
    allowed = set(roles) | {"admin"}

    def check(caller: Caller = Depends(current_caller)) -> Caller:
        if caller.is_public and "public" not in allowed:
            raise NotAuthenticated("an API key is required", [{"field": "X-API-Key", "reason": "missing"}])
        if caller.role not in allowed:
            raise Forbidden(
                f"role {caller.role!r} may not do this",
                [{"field": "role", "reason": f"needs one of {sorted(allowed)}"}],
            )
        return caller

    return check
