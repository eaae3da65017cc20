"""``POST /v1/route``: a location and a category → the responsible unit and the time limit.

Uses the same in-memory index as ``/v1/locate`` for the location; rules, limits and owner units are read from the
store per request (they change rarely, and routing is not the hot path).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.db import get_session
from api.routers.locate import _json, invalid, locate_index, unavailable
from geogrid.routing.locate import PointError
from geogrid.routing.route import route_with
from geogrid.supervision.duty import refine_route

router = APIRouter(tags=["route"])


class RouteRequest(BaseModel):
    lon: float = Field(..., description="longitude (or x for a projected EPSG CRS)")
    lat: float = Field(..., description="latitude (or y)")
    crs: str = Field("wgs84", description="wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n")
    category: str = Field(..., description="kind:code, e.g. event:0102, 事件:0102, component:0101, 部件:0101")
    urgency: str = Field("normal", description="normal | urgent")
    layer: str | None = Field(None, description="grid layer to route by (default: the first layer)")

    @field_validator("lon", "lat", mode="before")
    @classmethod
    def _not_bool(cls, value: object) -> object:
        """JSON ``false`` is not the number 0 (pydantic's lax mode would take it as 0.0)."""
        if isinstance(value, bool):
            raise ValueError("must be a number, not a boolean")
        return value

    model_config = {
        "json_schema_extra": {"examples": [{"lon": 106.7, "lat": 26.57, "crs": "gcj02", "category": "event:0102"}]}
    }


@router.post("/v1/route")
def post_route(body: RouteRequest, request: Request, session: Session = Depends(get_session)) -> Response:
    """The responsible unit under 部件先属主后属地，事件先属地后属主 with 属地兜底, and the time limit."""
    try:
        result = route_with(
            session, locate_index(request), body.lon, body.lat, body.crs, body.category, body.urgency, body.layer
        )
        answer = refine_route(session, result.to_dict(), result.lon, result.lat)  # duty rules, time-limit cap
    except PointError as exc:
        raise invalid(exc.field, exc.reason) from None
    except SQLAlchemyError as exc:
        raise unavailable(exc) from None
    return _json(answer)
