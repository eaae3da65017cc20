"""The edge: one pure-ASGI middleware in front of every route (key, rate limit, body limits, sanitiser, bulkhead).

Order, cheapest refusal first: path/query sanitised (422); the API key resolved through the worker's key cache (a
wrong key is 401 on every route); the route classified (``api.classes``); the caller's token bucket (429 +
Retry-After, ``api.ratelimit``); the body: ``Content-Length`` checked first, then counted while it streams (413),
JSON and form bodies read (bounded) and sanitised (``api.sanitise``) before the handler sees them; then the class's
gate (503 + Retry-After, ``api.bulkhead``), held while the handler runs, with the class in a context variable so
``api.db`` hands out a connection from that class's pool (and its statement_timeout).

Pure ASGI (not BaseHTTPMiddleware) so a refusal costs no task, and streamed bodies are never buffered twice.
Every response also gets ``X-Content-Type-Options: nosniff`` and loses any ``Server`` banner.
"""

from __future__ import annotations

import os
from contextvars import ContextVar

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import classes, keys, sanitise
from api.bulkhead import Gate, GateFull
from api.classes import UNGATED
from api.errors import DB_LOST
from api.ratelimit import Buckets, RateSettings
from geogrid.cases.settings import CaseSettings

ROUTE_CLASS: ContextVar[str | None] = ContextVar("geogrid_route_class", default=None)
"""The class of the request being served (None outside a request): ``api.db`` picks the pool by it."""

MIB = 1024 * 1024
MULTIPART_PATHS = ("/v1/reports", "/v1/cases/")


def body_limit(path: str) -> int:
    """Largest body accepted on ``path`` (bytes): batches and photo uploads are large, everything else small."""
    env = os.environ
    if path == "/v1/locate/batch":
        return int(env.get("GEOGRID_EDGE_MAX_BATCH_BYTES", 16 * MIB))
    if path.startswith(MULTIPART_PATHS):
        cs = CaseSettings.from_env()
        return cs.max_photos * cs.max_photo_bytes + MIB
    return int(env.get("GEOGRID_EDGE_MAX_BODY_BYTES", 4 * MIB))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _api_key(scope: Scope) -> str | None:
    key = _header(scope, b"x-api-key")
    if key and key.strip():
        return key.strip()
    auth = _header(scope, b"authorization")
    if auth and auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    return None


def _body(status: int, path: str, code: str, message: str, field: str, reason: str) -> bytes:
    if path.startswith("/open311/"):
        return orjson.dumps([{"code": status, "description": message}])
    return orjson.dumps({"error": code, "message": message, "details": [{"field": field, "reason": reason}]})


async def refuse(send: Send, scope: Scope, status: int, code: str, message: str, field: str, reason: str,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
    """Answer an error in the documented shape (Open311's under /open311) without touching the application."""
    body = _body(status, scope["path"], code, message, field, reason)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw.append((b"x-content-type-options", b"nosniff"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})


class TooLarge(Exception):
    """The body grew past its limit while streaming."""


class Edge:
    """The middleware; one instance (and one set of gates and buckets) per worker."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.classes = classes.from_env()
        self.gates = {name: Gate(rc) for name, rc in self.classes.items()}
        self.rates = RateSettings.from_env()
        self.buckets = Buckets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(scope, send)
        try:
            await self._serve(scope, receive, send)
        except sanitise.Refused as exc:
            code = "payload_too_large" if exc.status == 413 else "invalid_input"
            await refuse(send, scope, exc.status, code, exc.message, exc.field, exc.reason)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        sanitise.check_path_and_query(path, scope.get("query_string", b""))
        key = _api_key(scope)
        try:
            principal = await keys.lookup(key) if key is not None else None
        except DB_LOST as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200] if str(exc) else "unreachable"
            await refuse(send, scope, 503, "unavailable", "the database is unavailable; retry shortly",
                         "database", reason, {"Retry-After": "1"})  # fmt: skip
            return
        if key is not None and principal is None:
            await refuse(send, scope, 401, "not_authenticated", "unknown, revoked or expired API key",
                         "X-API-Key", "not recognised", {"WWW-Authenticate": "ApiKey"})  # fmt: skip
            return
        route_class = classes.classify(method, path, principal is not None)
        if not await self._within_rate(scope, send, route_class, key, principal):
            return
        receive = await self._checked_body(scope, receive, path)
        if UNGATED.match(path):
            await self.app(scope, receive, send)
            return
        await self._gated(scope, receive, send, route_class)

    async def _within_rate(self, scope: Scope, send: Send, route_class: str, key, principal) -> bool:
        if not self.rates.enabled or (principal is not None and principal.role == "admin"):
            return True
        if route_class == "tiles":  # a map opening asks for dozens at once: tiles never drain the caller's API bucket
            owner = principal.account_id if principal is not None else (scope.get("client") or ("?",))[0]
            who, rate = ("tiles", owner), self.rates.tiles
        elif principal is not None:
            who, rate = ("key", principal.account_id), self.rates.keyed
        else:
            who, rate = ("addr", (scope.get("client") or ("?",))[0]), self.rates.anon
        wait = self.buckets.take(who, rate)
        if wait:
            what = "API key" if principal is not None else "address"
            message = f"too many requests from this {what}; retry in {wait} s"
            reason = f"{rate.per_second:g}/s, burst {rate.burst:g}"
            await refuse(send, scope, 429, "rate_limited", message, "rate", reason, {"Retry-After": str(wait)})
            return False
        return True

    async def _checked_body(self, scope: Scope, receive: Receive, path: str) -> Receive:
        """A receive that replays a sanitised JSON/form body, or counts a streamed one against the limit."""
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and _header(scope, b"content-length") in (None, "0"):
            return receive
        limit = body_limit(path)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()) or len(declared) > 15:
                raise sanitise.Refused(400, "Content-Length is not a number", "Content-Length", "not a number")
            if int(declared) > limit:
                raise _too_large(limit)
        ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype in ("", "application/json", "application/geo+json", "application/x-www-form-urlencoded") or (
            ctype.endswith("+json") or ctype == "text/plain"
        ):
            body = await _read_all(receive, limit)
            if ctype == "application/x-www-form-urlencoded":
                sanitise.check_form(body)
            elif ctype != "text/plain":
                sanitise.check_json(body)
            return _replay(body, receive)
        return _counting(receive, limit)

    async def _gated(self, scope: Scope, receive: Receive, send: Send, route_class: str) -> None:
        gate = self.gates[route_class]
        try:
            await gate.enter()
        except GateFull as exc:
            await refuse(send, scope, 503, "unavailable", f"the {exc.route_class} class is busy; retry shortly",
                         "route_class", exc.reason, {"Retry-After": str(exc.retry_after)})  # fmt: skip
            return
        token = ROUTE_CLASS.set(route_class)
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except TooLarge:
            if started:
                raise
            await refuse(send, scope, 413, "payload_too_large", "the request body is too large", "body", "too large")
        finally:
            ROUTE_CLASS.reset(token)
            gate.leave()


def _too_large(limit: int) -> sanitise.Refused:
    return sanitise.Refused(413, f"request body over {limit} bytes", "body", f"at most {limit} bytes")


async def _read_all(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise TooLarge()
        return message

    return counted


def _with_security_headers(scope: Scope, send: Send) -> Send:
    csp = scope["path"].startswith("/map")

    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
            if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                headers.append((b"x-content-type-options", b"nosniff"))
            if csp and not any(k.lower() == b"content-security-policy" for k, _ in headers):
                headers.append((b"content-security-policy", MAP_CSP))
            message = {**message, "headers": headers}
        await send(message)

    return secured


MAP_CSP = (
    b"default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
    b"script-src 'self'; worker-src 'self' blob:; connect-src 'self' https:; frame-ancestors 'none'"
)
