"""API accounts: roles and hashed keys. A key is shown once, at creation; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.store.models import ROLES, Account

KEY_PREFIX_LEN = 8


def hash_key(key: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_account(session: Session, name: str, role: str, unit_id: int | None = None) -> tuple[Account, str]:
    """Create an account and return it with its clear-text key (never stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if session.scalar(select(Account).where(Account.name == name)) is not None:
        raise ValueError(f"account {name!r} exists already")
    key = "gg_" + secrets.token_urlsafe(32)
    account = Account(name=name, role=role, key_prefix=key[:KEY_PREFIX_LEN], key_hash=hash_key(key), unit_id=unit_id)
    session.add(account)
    session.flush()
    return account, key


def account_for_key(session: Session, key: str) -> Account | None:
    """The active account owning ``key``, or None."""
    return session.scalar(select(Account).where(Account.key_hash == hash_key(key), Account.active.is_(True)))
