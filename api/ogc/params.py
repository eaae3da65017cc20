"""Query parameters of the OGC API routes, validated once into typed values.

OGC API – Features Part 1 asks for 400 on an unknown parameter (``/req/core/query-param-unknown``) and on an
invalid value (``/req/core/query-param-invalid``), so every error here is :class:`api.errors.BadRequest` naming the
parameter. Route code receives an :class:`ItemsRequest`, never raw strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request

from api.errors import BadRequest
from geogrid.maps.catalog import Collection
from geogrid.maps.features import SUPPORTED_CRS, lat_first, parse_crs_uri, properties_of, queryables_of
from geogrid.maps.filters import FilterError, Where, compile_filter, parse_filter, property_filters

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
ITEMS_PARAMS = frozenset(
    {"f", "bbox", "bbox-crs", "limit", "offset", "properties", "datetime", "crs", "filter", "filter-lang", "filter-crs"}
)
"""Parameters of ``/items`` besides the collection's queryables (simple property filters)."""
FORMATS = {"json": "json", "geojson": "json", "html": "html"}


def bad(field: str, reason: str) -> BadRequest:
    return BadRequest(f"invalid {field}: {reason}", [{"field": field, "reason": reason}])


def check_known(request: Request, allowed: Iterable[str]) -> None:
    """400 for the first query parameter the route does not define, listing those it does."""
    allowed = set(allowed)
    for name in request.query_params:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadRequest(
                f"unknown query parameter {name!r}; this resource takes: {known}",
                [{"field": name, "reason": f"unknown parameter; allowed: {known}"}],
            )


def output_format(request: Request, html: bool = True) -> str:
    """``json`` or ``html``: the ``f`` parameter wins, then an Accept header that prefers HTML (a browser)."""
    f = request.query_params.get("f")
    if f is not None:
        fmt = FORMATS.get(f.lower())
        if fmt is None or (fmt == "html" and not html):
            allowed = [k for k, v in FORMATS.items() if html or v != "html"]
            raise bad("f", f"{f!r} is not offered; use one of {', '.join(allowed)}")
        return fmt
    accept = request.headers.get("accept", "").lower()
    html_at = accept.find("text/html")
    if not html or html_at < 0:
        return "json"
    others = [i for i in (accept.find("json"), accept.find("*/*")) if i >= 0]
    return "html" if not others or html_at < min(others) else "json"


# --- single parameters --------------------------------------------------------------------------------------------
def parse_bbox(value: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    """bbox as lon/lat in the store CRS; in EPSG:4326/4490 the client gives it lat-first (the CRS's axis order)."""
    if value is None:
        return None
    try:
        nums = [float(v) for v in value.split(",")]
    except ValueError:
        raise bad("bbox", "must be 4 or 6 comma-separated numbers") from None
    if len(nums) not in (4, 6) or not all(math.isfinite(n) for n in nums):
        raise bad("bbox", "must be 4 or 6 comma-separated numbers")
    half = len(nums) // 2
    a0, b0, a1, b1 = nums[0], nums[1], nums[half], nums[half + 1]
    x0, y0, x1, y1 = (b0, a0, b1, a1) if lat_first(crs_param(bbox_crs, "bbox-crs")) else (a0, b0, a1, b1)
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise bad("bbox", "longitude must lie in [-180, 180] and latitude in [-90, 90]")
    if x0 > x1 or y0 > y1:
        raise bad("bbox", "lower corner must come before upper corner")
    return x0, y0, x1, y1


def crs_param(value: str | None, field: str) -> str:
    crs = parse_crs_uri(value)
    if crs is None:
        raise bad(field, f"unsupported; use one of {', '.join(SUPPORTED_CRS)}")
    return crs


def _instant(text_: str, field: str) -> datetime | None:
    if text_ in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(text_)
    except ValueError:
        raise bad(field, f"{text_!r} is not an RFC 3339 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None] | None:
    """An instant or interval (``a/b``, ``../b``, ``a/..``) as (start, end); None when absent."""
    if value is None:
        return None
    if "/" in value:
        start_s, end_s = value.split("/", 1)
        start, end = _instant(start_s, "datetime"), _instant(end_s, "datetime")
        if start and end and start > end:
            raise bad("datetime", "interval start is after its end")
        return start, end
    at = _instant(value, "datetime")
    if at is None:
        raise bad("datetime", "an instant must be a date-time")
    return at, at


def valid_during(collection: Collection, span: tuple[datetime | None, datetime | None] | None) -> bool:
    """Whether the plan's validity [valid_from, valid_to) meets the requested instant or interval."""
    if span is None or collection.kind != "grids":
        return True  # admin areas carry no validity: every feature matches
    if collection.valid_from is None:
        return False  # a draft has never been valid
    start, end = span
    ends_after_start = collection.valid_to is None or start is None or collection.valid_to > start
    begins_before_end = end is None or collection.valid_from <= end
    return ends_after_start and begins_before_end


def parse_properties(value: str | None, collection: Collection) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in properties_of(collection)]
    if unknown:
        raise bad("properties", f"unknown {', '.join(unknown)}; known: {', '.join(properties_of(collection))}")
    return names


def parse_count(value: str | None, field: str, default: int, minimum: int) -> int:
    """A non-negative decimal integer (ASCII digits only), at least ``minimum``."""
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise bad(field, f"{value!r} is not a whole number")
    number = int(value)
    if number < minimum:
        raise bad(field, f"must be at least {minimum}")
    return number


# --- the items request ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemsRequest:
    """Everything ``/items`` was asked, validated; ``where`` holds the property filters and the CQL2 filter."""

    bbox: tuple[float, float, float, float] | None
    limit: int
    offset: int
    properties: tuple[str, ...] | None
    crs: str
    span: tuple[datetime | None, datetime | None] | None
    where: Where
    format: str


def items_request(request: Request, collection: Collection) -> ItemsRequest:
    """Validate every parameter of ``/collections/{id}/items`` for this collection (400 naming the first fault)."""
    q = request.query_params
    queryables = queryables_of(collection)
    check_known(request, ITEMS_PARAMS | set(queryables))
    where = Where()
    try:
        property_filters(queryables, {k: v for k, v in q.items() if k in queryables}, where)
        if q.get("filter") is not None:
            node = parse_filter(q["filter"], q.get("filter-lang"))
            compile_filter(node, queryables, where, lat_first(crs_param(q.get("filter-crs"), "filter-crs")))
        elif "filter-lang" in q or "filter-crs" in q:
            raise FilterError("filter", "filter-lang and filter-crs need a filter")
    except FilterError as exc:
        raise bad(exc.field, exc.reason) from None
    return ItemsRequest(
        bbox=parse_bbox(q.get("bbox"), q.get("bbox-crs")),
        limit=min(parse_count(q.get("limit"), "limit", DEFAULT_LIMIT, 1), MAX_LIMIT),
        offset=parse_count(q.get("offset"), "offset", 0, 0),
        properties=parse_properties(q.get("properties"), collection),
        crs=crs_param(q.get("crs"), "crs"),
        span=parse_datetime(q.get("datetime")),
        where=where,
        format=output_format(request),
    )
