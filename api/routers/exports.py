"""Downloads of a collection (a plan version, a layer's published plan, an admin level) for desktop GIS."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from api.auth import Caller, current_caller
from api.errors import InvalidInput
from api.replicas import get_read_session
from api.routers.ogc import find_collection
from geogrid.maps.export import ENCODINGS, FORMATS, collection_frame, write_export

router = APIRouter(tags=["exports"])


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"invalid {field}: {reason}", [{"field": field, "reason": reason}])


@router.get("/v1/exports/{collection_id}", summary="Download a collection as GeoJSON, GeoPackage or Shapefile")
def export(
    collection_id: str,
    request: Request,
    format: str = Query(default="gpkg", description="geojson, gpkg or shp (zipped)"),
    encoding: str = Query(default="utf-8", description="Shapefile text encoding: utf-8 (default) or gbk"),
    session: Session = Depends(get_read_session),
    caller: Caller = Depends(current_caller),
) -> FileResponse:
    fmt = format.lower()
    if fmt not in FORMATS:
        raise _bad("format", f"unsupported {format!r}; use one of {', '.join(FORMATS)}")
    enc = ENCODINGS.get(encoding.lower())
    if enc is None:
        raise _bad("encoding", f"unsupported {encoding!r}; use utf-8 or gbk")
    if enc != "UTF-8" and fmt != "shp":
        raise _bad("encoding", f"{fmt} is always UTF-8; gbk applies to Shapefiles only")
    collection = find_collection(request, session, collection_id, caller)
    frame = collection_frame(session, collection)
    workdir = Path(tempfile.mkdtemp(prefix="geogrid-export-"))
    try:
        out = write_export(frame, fmt, enc, workdir, collection.tile_layer)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    filename = f"{collection.id}{out.suffix}"
    disposition = f"attachment; filename=\"export{out.suffix}\"; filename*=UTF-8''{quote(filename)}"
    return FileResponse(
        out.path,
        media_type=out.media_type,
        headers={"Content-Disposition": disposition},
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )
