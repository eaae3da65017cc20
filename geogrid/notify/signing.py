"""Signing: ``X-Geogrid-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the secret>``."""

from __future__ import annotations

import hashlib
import hmac
import json

SIGNATURE_HEADER = "X-Geogrid-Signature"
EVENT_ID_HEADER = "X-Geogrid-Event-Id"
EVENT_HEADER = "X-Geogrid-Event"


def body_bytes(message: dict) -> bytes:
    """The canonical body: sorted keys, no spaces, UTF-8; the same bytes on every retry."""
    return json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)
