"""One exception hierarchy and one status-code table; every error body is machine-readable.

Body shape: ``{"error": CODE, "message": TEXT, "details": [{"field": ..., "reason": ...}, ...]}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

DB_LOST = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
"""A lost or refused database connection: the server's temporary trouble, answered 503 + Retry-After, never 500."""


class GeogridError(Exception):
    """Base of every error the API answers on purpose."""

    code = "error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.extra = extra


class InvalidInput(GeogridError):
    code = "invalid_input"


class BadRequest(InvalidInput):
    """A query parameter that is unknown or has an invalid value where a standard asks for 400 (OGC API)."""

    code = "invalid_parameter"


class NotAuthenticated(GeogridError):
    code = "not_authenticated"


class Forbidden(GeogridError):
    code = "forbidden"


class NotFound(GeogridError):
    code = "not_found"


class Conflict(GeogridError):
    code = "conflict"


class PayloadTooLarge(GeogridError):
    code = "payload_too_large"


class Unavailable(GeogridError):
    code = "unavailable"


STATUS: dict[type[GeogridError], int] = {
    InvalidInput: 422,
    BadRequest: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    Unavailable: 503,
    GeogridError: 400,
}


def status_for(exc: GeogridError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None, **extra: Any) -> dict:
    return {"error": code, "message": message, "details": details or [], **extra}


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into the shared error body."""

    @app.exception_handler(GeogridError)
    async def _geogrid(_: Request, exc: GeogridError) -> JSONResponse:
        headers = {"WWW-Authenticate": "ApiKey"} if isinstance(exc, NotAuthenticated) else None
        if isinstance(exc, Unavailable):
            headers = {"Retry-After": "2"}  # every 503 says when to come back (tiles in an outage included)
        body = error_body(exc.code, exc.message, exc.details, **exc.extra)
        return JSONResponse(body, status_code=status_for(exc), headers=headers)

    def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200] if str(exc) else type(exc).__name__
        body = error_body(
            "unavailable", "the database is unavailable; retry shortly", [{"field": "database", "reason": reason}]
        )
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    for cls in DB_LOST:
        app.add_exception_handler(cls, _unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Unmatched routes (404), wrong methods (405) and the like, in the same shape as every other error."""
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        body = error_body(code, message, [{"field": "path", "reason": message}])
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.StatementError)
    async def _statement(request: Request, exc: sa_exc.StatementError) -> JSONResponse:
        """Safety net behind the edge sanitiser: values PostgreSQL refuses are the caller's fault, not a 500."""
        if isinstance(exc, DB_LOST):
            return _unavailable(request, exc)
        orig = getattr(exc, "orig", None)
        pgcode = getattr(orig, "pgcode", None) or ""
        if isinstance(orig, ValueError) or pgcode.startswith("22"):  # data exception: out of range, NUL, bad text
            reason = str(orig).strip().splitlines()[0][:200] if orig else "invalid value"
            body = error_body(
                "invalid_input", "a value was refused by the database", [{"field": "value", "reason": reason}]
            )
            return JSONResponse(body, status_code=422)
        if pgcode == "57014":  # query_canceled: statement_timeout of the route class
            body = error_body("unavailable", "the query took too long; retry later or narrow it",
                              [{"field": "statement_timeout", "reason": "canceled"}])  # fmt: skip
            return JSONResponse(body, status_code=503, headers={"Retry-After": "2"})
        raise exc

    @app.exception_handler(RecursionError)
    async def _recursion(_: Request, exc: RecursionError) -> JSONResponse:
        body = error_body("invalid_input", "the input is nested too deeply", [{"field": "body", "reason": "too deep"}])
        return JSONResponse(body, status_code=422)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        """A bug: still the documented shape (the traceback goes to the log, not to the caller)."""
        body = error_body("internal_error", "internal error; it has been logged", [])
        return JSONResponse(body, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": _field(e.get("loc", ())), "reason": e.get("msg", "invalid")} for e in exc.errors()]
        return JSONResponse(error_body("invalid_input", "request did not validate", details), status_code=422)
