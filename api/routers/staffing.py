"""``GET /v1/staffing``: staffing checks per grid (one 网格长, minimum members, known roles), as JSON or as GeoJSON
for the map (each published grid with its problems; ``?problems=true`` keeps only the grids that have some)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import get_session
from api.routers.locate import _json
from api.routers.reports import invalid
from geogrid.staffing import StaffingError, StaffingSettings, staffing_report
from geogrid.store.models import Grid, GridLayer, Plan

router = APIRouter(prefix="/v1", tags=["staffing"])


@router.get("/staffing", summary="Staffing check per grid (JSON, or GeoJSON with format=geojson)")
def get_staffing(
    layer: str = Query("responsibility"),
    format: str = Query("json", pattern="^(json|geojson)$"),
    problems: bool = Query(False, description="only grids with a problem"),
    session: Session = Depends(get_session),
) -> Response:
    try:
        report = staffing_report(session, layer, StaffingSettings.from_env())
    except StaffingError as exc:
        raise invalid(exc.field, exc.reason) from None
    if problems:
        report["grids"] = [g for g in report["grids"] if not g["ok"]]
    if format == "json":
        return _json(report)
    shapes = dict(
        session.execute(
            select(Grid.code, func.ST_AsGeoJSON(Grid.geom, 7))
            .join(Plan, Plan.id == Grid.plan_id)
            .join(GridLayer, GridLayer.id == Plan.layer_id)
            .where(GridLayer.name == layer, Plan.status == "published")
        ).all()
    )
    features = [{"type": "Feature", "id": g["grid_code"], "geometry": orjson.loads(shapes[g["grid_code"]]),
                 "properties": {**g, "problems": "; ".join(g["problems"])}} for g in report["grids"]]  # fmt: skip
    return _json({"type": "FeatureCollection", "features": features, "rules": report["rules"]})
