"""The one input sanitiser: control characters, JSON nesting and JSON/form text checked before any handler runs.

Why at the edge: a NUL in any string that reached SQL was a 500 (PostgreSQL text cannot hold it), and
``'[' * 30000`` made ``json.loads`` raise RecursionError inside whichever handler parsed it. Checking once, before
routing, covers every route, including the ones written later. Each finding names the field it is in.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

MAX_DEPTH = 64
"""Deepest JSON nesting accepted; GeoJSON multipolygons inside a feature collection need about 8."""

_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, newline and CR are fine in free text
_JSON_CONTROL_ESCAPE = re.compile(rb"\\u00(?:[01][0-9a-fA-F]|7[fF])")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class Refused(Exception):
    """Input refused at the edge: ``status`` (413/422), a message and the field at fault."""

    def __init__(self, status: int, message: str, field: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.reason = status, message, field, reason


def check_path_and_query(path: str, query: bytes) -> None:
    """No control characters in the (decoded) path or any query name or value."""
    if _PATH_CONTROL.search(path):
        raise Refused(422, "the path contains a control character", "path", "control character (e.g. NUL)")
    try:
        text = query.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(422, "the query string is not UTF-8", "query", "not UTF-8") from None
    if "%" not in text and not _PATH_CONTROL.search(text):
        return
    for name, value in parse_qsl(text, keep_blank_values=True, errors="strict"):
        if _PATH_CONTROL.search(name):
            raise Refused(422, "a query parameter name contains a control character", "query", "control character")
        if _PATH_CONTROL.search(value):
            raise Refused(422, f"query parameter {name!r} contains a control character", name, "control character")


def json_depth(body: bytes) -> int:
    """Deepest bracket nesting of a JSON text, strings ignored; linear time and no recursion."""
    stripped = _JSON_STRING.sub(b'""', body)
    raw = np.frombuffer(stripped, dtype=np.uint8)
    brackets = raw[(raw == ord("[")) | (raw == ord("]")) | (raw == ord("{")) | (raw == ord("}"))]
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def _find_control(value: Any, where: str) -> str | None:
    """The dotted path of the first string (or key) holding a refused control character, iteratively."""
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if _TEXT_CONTROL.search(item):
                return at
        elif isinstance(item, dict):
            for key, child in item.items():
                if _TEXT_CONTROL.search(key):
                    return f"{at}.{key!r}" if at else repr(key)
                stack.append((child, f"{at}.{key}" if at else key))
        elif isinstance(item, list):
            stack.extend((child, f"{at}[{i}]") for i, child in enumerate(item))
    return None


def check_json(body: bytes) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH and strings holding control characters (``\\u0000`` and kin)."""
    if not body.strip():
        return
    depth = json_depth(body)
    if depth > MAX_DEPTH:
        raise Refused(422, f"JSON nested {depth} levels deep; at most {MAX_DEPTH}", "body", "nested too deeply")
    if not _JSON_CONTROL_ESCAPE.search(body):
        return
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return  # the handler answers malformed JSON in its own words
    field = _find_control(value, "")
    if field is not None:
        raise Refused(422, f"{field or 'body'} contains a control character", field or "body", "control character")


def check_form(body: bytes) -> None:
    """URL-encoded form fields (Open311 POST) hold no control characters except tab and line breaks."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise Refused(422, "the form body is not UTF-8", "body", "not UTF-8") from None
    for name, value in pairs:
        if _TEXT_CONTROL.search(name) or _TEXT_CONTROL.search(value):
            raise Refused(422, f"form field {name!r} contains a control character", name, "control character")


MAX_ROW_ID = 2**31 - 1


def ascii_int(text: str, maximum: int = MAX_ROW_ID) -> int | None:
    """``text`` as a non-negative integer when it is ASCII digits within ``maximum``, else None (never int('²'))."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None
