"""API-key authentication and role checks; every write endpoint depends on ``require_roles``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Header

from api import keys
from api.errors import Forbidden, NotAuthenticated
from api.keys import ANONYMOUS, Principal

Caller = Principal
"""Who is calling (``api.keys.Principal``): an account, or the anonymous public."""


def _key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _unknown_key() -> NotAuthenticated:
    return NotAuthenticated("unknown, revoked or expired API key", [{"field": "X-API-Key", "reason": "not recognised"}])


def caller_from_headers(x_api_key: str | None, authorization: str | None) -> Caller:
    """``current_caller`` for code already running in a worker thread (tiles, OGC items): same rules, same cache."""
    key = _key_from_headers(x_api_key, authorization)
    if key is None:
        return ANONYMOUS
    caller = keys.lookup_sync(key)
    if caller is None:
        raise _unknown_key()
    return caller


async def current_caller(
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> Caller:
    """The caller named by ``X-API-Key`` or ``Authorization: Bearer``; anonymous when neither is sent.

    A key that is sent but unknown, revoked or expired is 401 on every route, reads included (never anonymous).
    """
    key = _key_from_headers(x_api_key, authorization)
    if key is None:
        return ANONYMOUS
    caller = await keys.lookup(key)
    if caller is None:
        raise _unknown_key()
    return caller


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
