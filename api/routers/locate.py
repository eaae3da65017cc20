"""``GET /v1/locate`` and ``POST /v1/locate/batch``: points → grids of every published layer and admin chain.

Answers come from the in-memory index (``geogrid.routing.index``), never from an ORM query: the snapshot is
rebuilt by a LISTEN thread in each worker process when a plan is published or the directory changes.
Batch bodies: a JSON array of ``[lon, lat]`` pairs or ``{"lon", "lat"}`` objects, a GeoJSON FeatureCollection of
points, or ``{"crs": …, "points": [...]}``; at most ``GEOGRID_API_MAX_BATCH_POINTS`` (100,000) points, answered in
input order. Numbers are validated as arrays; the first bad point is named in the 422 (``points[i]``).
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from api.errors import InvalidInput, PayloadTooLarge, Unavailable
from api.replicas import ReplicaIndexService
from api.settings import ApiSettings
from geogrid.routing.index import IndexService
from geogrid.routing.locate import PointError, crs_spec, is_geographic, locate_with, to_store_lonlat

router = APIRouter(tags=["locate"])


@dataclass(frozen=True)
class LocateSettings:
    """``GEOGRID_LOCATE_*``: how the index stays fresh (LISTEN on, plus a fingerprint poll every N seconds)."""

    listen: bool = True
    poll_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> LocateSettings:
        return cls(
            listen=os.environ.get("GEOGRID_LOCATE_LISTEN", "1").lower() not in ("0", "false", "no"),
            poll_seconds=float(os.environ.get("GEOGRID_LOCATE_POLL_SECONDS", cls.poll_seconds)),
        )


class JSONBytes(Response):
    media_type = "application/json"


def _json(data: Any) -> Response:
    return JSONBytes(orjson.dumps(data))


def setup(app: FastAPI) -> None:
    """Attach the index service; ``lifespan`` runs its watcher thread."""
    settings = LocateSettings.from_env()
    app.state.locate_index = ReplicaIndexService(poll_seconds=settings.poll_seconds, listen=settings.listen)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The index watcher (LISTEN + poll) lives as long as the app."""
    app.state.locate_index.start()
    try:
        yield
    finally:
        app.state.locate_index.stop()


def locate_index(request: Request) -> IndexService:
    return request.app.state.locate_index


def invalid(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field}: {reason}", [{"field": field, "reason": reason}])


def unavailable(exc: Exception) -> Unavailable:
    """The store is down and no snapshot was ever built in this process."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = "the locate index cannot be built: the store is unreachable"
    return Unavailable(message, [{"field": "store", "reason": reason}])


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise invalid(field, f"{value!r} is not a number") from None


def _param(name: str, description: str, required: bool = False, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if default is not None:
        schema["default"] = default
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


LOCATE_PARAMETERS = [
    _param("lon", "longitude (or x/easting for a projected EPSG CRS)", required=True),
    _param("lat", "latitude (or y/northing)", required=True),
    _param("crs", "wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n", default="wgs84"),
    _param("layer", "layer reported as `grid` (default: the first layer)"),
    _param("min_version", "answer from store version N or later (`index_version` of an earlier answer or publish)"),
]


@router.get("/v1/locate", openapi_extra={"parameters": LOCATE_PARAMETERS})
async def get_locate(request: Request) -> Response:
    """The grid of the point in every layer with a published plan, its admin chain, and who answers for it.

    The hot path: query parameters are read directly (no model validation), the answer comes from the in-memory
    snapshot as precomputed dictionaries and is serialised by orjson."""
    query = request.query_params
    values = []
    for field in ("lon", "lat"):
        raw = query.get(field)
        if raw is None or raw.strip() == "":
            raise invalid(field, "required")
        values.append(_number(raw, field))
    index = locate_index(request)
    if query.get("min_version") is not None:
        await at_least(index, query.get("min_version"))
    try:
        result = locate_with(index, values[0], values[1], query.get("crs"), query.get("layer"))
    except PointError as exc:
        raise invalid(exc.field, exc.reason) from None
    except SQLAlchemyError as exc:
        raise unavailable(exc) from None
    return _json(result.to_dict())


async def at_least(index: IndexService, raw: str) -> None:
    """Wait (off the event loop) for the index to reach store version ``raw``; 503 if the store is not there."""
    try:
        want = int(raw)
    except ValueError:
        raise invalid("min_version", f"{raw!r} is not an integer") from None
    try:
        snap = await run_in_threadpool(index.at_least, want)
    except SQLAlchemyError as exc:
        raise unavailable(exc) from None
    if snap.version < want:
        reason = f"the store is at version {snap.version}, below {want}"
        raise Unavailable(f"min_version: {reason}", [{"field": "min_version", "reason": reason}])


# ---- batch ---------------------------------------------------------------------------------------------------
def _first_bad(items: list, getter, label: str) -> InvalidInput:
    """Find the first malformed point for the error message (only runs on the error path)."""
    for i, item in enumerate(items):
        try:
            x, y = getter(item)
            if isinstance(x, bool) or isinstance(y, bool) or not all(isinstance(v, (int, float)) for v in (x, y)):
                raise TypeError
        except Exception:
            return invalid(f"{label}[{i}]", 'must be a point: [lon, lat] or {"lon": …, "lat": …}')
    return invalid(label, "points must be pairs of numbers")


def _pairs(items: list, label: str) -> np.ndarray:
    """An (n, 2) float array from a list of [x, y] pairs or {"lon", "lat"} objects."""
    if not items:
        return np.empty((0, 2))
    first = items[0]
    try:
        if isinstance(first, dict):
            getter = itemgetter("lon", "lat")
            arr = np.array(list(map(getter, items)), dtype=float)
        else:
            getter = itemgetter(0, 1)
            arr = np.array(items, dtype=float)
    except (TypeError, ValueError, KeyError, IndexError):
        raise _first_bad(items, getter if isinstance(first, dict) else _pair_getter, label) from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise _first_bad(items, _pair_getter, label)
    return arr


def _pair_getter(item):
    if not isinstance(item, (list, tuple)) or len(item) != 2:
        raise TypeError
    return item[0], item[1]


def _feature_coords(feature: dict) -> list:
    geometry = feature["geometry"]
    if geometry["type"] != "Point":
        raise TypeError
    return geometry["coordinates"][:2]


def _features(features: list) -> np.ndarray:
    try:
        return np.array(list(map(_feature_coords, features)), dtype=float).reshape(-1, 2)
    except (TypeError, ValueError, KeyError, IndexError):
        pass
    for i, feature in enumerate(features):  # error path only: name the first bad feature
        try:
            x, y = _feature_coords(feature)
            float(x), float(y)
        except Exception:
            raise invalid(f"features[{i}].geometry", "must be a GeoJSON Point with numeric coordinates") from None
    raise invalid("features", "every feature must be a GeoJSON Point")


def parse_batch(body: bytes, crs_param: str | None) -> tuple[np.ndarray, str | None, str]:
    """(points (n, 2), crs name from the body or None, label for error fields)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid("body", f"not valid JSON ({exc})") from None
    if isinstance(data, list):
        return _pairs(data, "points"), None, "points"
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise invalid("features", "must be a list of GeoJSON Point features")
        return _features(features), None, "features"
    if isinstance(data, dict) and isinstance(data.get("points"), list):
        body_crs = data.get("crs")
        if body_crs is not None and not isinstance(body_crs, str):
            raise invalid("crs", "must be a string such as wgs84, gcj02, bd09 or EPSG:4545")
        return _pairs(data["points"], "points"), body_crs, "points"
    raise invalid("body", 'expected a JSON array of points, {"points": [...]}, or a GeoJSON FeatureCollection')


def _validate(arr: np.ndarray, geographic: bool, label: str) -> None:
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        raise invalid(f"{label}[{int(np.argmin(finite))}]", "coordinates must be finite numbers")
    if geographic:
        bad = (np.abs(arr[:, 0]) > 180) | (np.abs(arr[:, 1]) > 90)
        if bad.any():
            i = int(np.argmax(bad))
            raise invalid(f"{label}[{i}]", f"({arr[i, 0]}, {arr[i, 1]}) is outside lon [-180, 180] / lat [-90, 90]")


@router.post("/v1/locate/batch")
async def post_locate_batch(
    request: Request,
    crs: str | None = Query(None, description="CRS of every point (default wgs84)"),
    layer: str | None = Query(None, description="layer reported as `grid` (default: the first layer)"),
) -> Response:
    """Locate up to 100,000 points; results in input order, grid and admin codes per point."""
    limit = ApiSettings.from_env().max_batch_points
    body = await request.body()
    # CPU-bound for ~0.1 s per 100,000 points: off the event loop, so single-point requests keep flowing
    return await run_in_threadpool(_batch_paused, request, body, crs, layer, limit)


def _batch_paused(request: Request, body: bytes, crs: str | None, layer: str | None, limit: int) -> Response:
    with paused_gc():
        return _batch(request, body, crs, layer, limit)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Parsing 100,000 points allocates 100,000 lists; the cyclic GC would rescan the heap ~150 times meanwhile
    (it halves parse time to pause it). Nothing here creates reference cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _batch(request: Request, body: bytes, crs: str | None, layer: str | None, limit: int) -> Response:
    points, body_crs, label = parse_batch(body, crs)
    if len(points) > limit:
        raise PayloadTooLarge(
            f"{len(points)} points; at most {limit} per request",
            [{"field": label, "reason": f"{len(points)} points exceed the limit of {limit}"}],
        )
    try:
        spec = crs_spec(crs or body_crs)
    except PointError as exc:
        raise invalid(exc.field, exc.reason) from None
    _validate(points, is_geographic(spec), label)
    lon, lat = to_store_lonlat(points[:, 0], points[:, 1], spec)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.all():
        i = int(np.argmin(ok))
        raise invalid(f"{label}[{i}]", f"does not convert to a valid longitude/latitude from {spec.name}")
    try:
        snapshot = locate_index(request).snapshot
    except SQLAlchemyError as exc:
        raise unavailable(exc) from None
    if layer is not None and snapshot.layer(layer) is None:
        raise invalid("layer", f"no published plan in layer {layer!r}; layers: {', '.join(snapshot.layer_names)}")
    results = snapshot.batch_json(np.ascontiguousarray(lon), np.ascontiguousarray(lat), layer)
    head = orjson.dumps(
        {
            "count": len(points),
            "crs": spec.name,
            "layer": (snapshot.layer(layer).name if snapshot.layers else None),
            "layers": snapshot.layer_names,
            "index_version": snapshot.version,
        }
    )
    return JSONBytes(head[:-1] + b',"results":' + results + b"}")
