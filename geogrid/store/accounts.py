"""API accounts: roles and hashed keys. A key is shown once, at creation; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
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
    """The active, unexpired account owning ``key`` (or whose previous key is still in its rotation grace)."""
    digest = hash_key(key)
    now = func.now()
    current = (Account.key_hash == digest) & or_(Account.expires_at.is_(None), Account.expires_at > now)
    previous = (Account.previous_key_hash == digest) & (Account.previous_key_expires_at > now)
    return session.scalar(select(Account).where(Account.active.is_(True), current | previous).limit(1))


def _named(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise ValueError(f"no account named {name!r}")
    return account


def revoke(session: Session, name: str) -> Account:
    """Deactivate an account: its keys (current and previous) stop working within the API's key-cache TTL."""
    account = _named(session, name)
    account.active = False
    account.previous_key_hash = None
    account.previous_key_expires_at = None
    session.flush()
    return account


def rotate(session: Session, name: str, grace: timedelta) -> tuple[Account, str]:
    """Give the account a new key; the old one keeps working for ``grace`` so clients can switch without a gap."""
    account = _named(session, name)
    key = "gg_" + secrets.token_urlsafe(32)
    account.previous_key_hash = account.key_hash
    account.previous_key_expires_at = datetime.now().astimezone() + grace
    account.key_hash = hash_key(key)
    account.key_prefix = key[:KEY_PREFIX_LEN]
    session.flush()
    return account, key


def set_expiry(session: Session, name: str, expires_at: datetime | None) -> Account:
    """The key stops working at ``expires_at`` (None: never)."""
    account = _named(session, name)
    account.expires_at = expires_at
    session.flush()
    return account


def touch(session: Session, account_ids: Iterable[int]) -> None:
    """Record use of these accounts now (called in batches by the API's key cache, not once per request)."""
    ids = sorted(set(account_ids))
    if ids:
        session.execute(update(Account).where(Account.id.in_(ids)).values(last_used_at=func.now()))
