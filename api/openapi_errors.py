"""Every operation documents the errors the edge and the handlers may answer, in the shared error shape.

Why: FastAPI documents 200 and 422 only, so clients (and schemathesis' status-code conformance check) could not know
that any route may answer 401 (a wrong key), 413 (a body too large), 429 (rate limit) or 503 (a busy class or a
database away, with Retry-After).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "details"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}},
        },
    },
}
COMMON = {
    "400": "bad request (a malformed parameter or header)",
    "401": "an API key was sent and is unknown, revoked or expired, or a key is required",
    "403": "the caller's role may not do this",
    "404": "not found (or not among the cases the caller may see)",
    "405": "method not allowed",
    "409": "conflict with the current state",
    "413": "the request body is too large",
    "422": "invalid input; details name the field",
    "429": "rate limited; see Retry-After",
    "503": "busy or the database is unavailable; see Retry-After",
}


def _content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` by one that adds the common error responses to every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for item in doc.get("paths", {}).values():
            for method, operation in item.items():
                if method not in ("get", "put", "post", "delete", "patch", "head", "options"):
                    continue
                responses = operation.setdefault("responses", {})
                for status, text in COMMON.items():
                    responses.setdefault(status, {"description": text, "content": _content()})
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
