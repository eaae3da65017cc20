"""OGC API – Tiles for every collection: tile matrix sets, tilesets and MVT tiles beside ``/tiles/…``.

``/collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}`` serves the very tiles of ``/tiles/{id}/{z}/{x}/{y}.mvt``
(same renderer, cache and ETags); ``CGCS2000Quad`` tiles clip the stored EPSG:4490 geometry directly.

Path order: z/x/y (column before row), as TiPg serves it; OGC 20-057 writes ``{tileMatrix}/{tileRow}/{tileCol}``.
The tileset's ``item`` link is a template with the OGC variable names in our order
(``…/{tileMatrix}/{tileCol}/{tileRow}``), so clients that follow links (GDAL, QGIS) build the right URL either way.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError

from api.errors import NotFound
from api.ogc.documents import JSON, MVT, OGC_REL, base_url
from api.ogc.params import bad, check_known, output_format
from api.replicas import get_read_session
from api.routers import tiles
from api.routers.ogc import CollectionId, VisibleCollection, maps_state
from geogrid.maps.catalog import Collection
from geogrid.maps.features import CRS84
from geogrid.maps.tiles import tile_fields
from geogrid.maps.tilesets import WEB_MERCATOR, geographic_tile, matrix_limits, tile_exists, tile_matrix_sets

router = APIRouter(tags=["ogc-tiles"])
TILING_SCHEME = f"{OGC_REL}/tiling-scheme"


def _json(doc: dict) -> Response:
    return Response(orjson.dumps(doc), media_type=JSON)


def _tms(tms_id: str):
    found = tile_matrix_sets().get(tms_id)
    if found is None:
        known = ", ".join(tile_matrix_sets())
        raise NotFound(
            f"no tile matrix set {tms_id!r}; offered: {known}", [{"field": "tileMatrixSetId", "reason": "not found"}]
        )
    return found


def _json_only(request: Request) -> None:
    check_known(request, {"f"})
    output_format(request, html=False)


@router.get("/tileMatrixSets", summary="The tiling schemes offered")
def tile_matrix_set_list(request: Request) -> Response:
    _json_only(request)
    base = base_url(request)
    sets = [
        {
            "id": tms_id,
            "title": tms.title,
            "crs": _crs_uri(tms),
            **({"uri": tms.uri} if tms.uri else {}),
            "links": [{"href": f"{base}/tileMatrixSets/{tms_id}", "rel": TILING_SCHEME, "type": JSON}],
        }
        for tms_id, tms in tile_matrix_sets().items()
    ]
    return _json({"tileMatrixSets": sets, "links": [{"href": f"{base}/tileMatrixSets", "rel": "self", "type": JSON}]})


@router.get("/tileMatrixSets/{tms_id}", summary="One tiling scheme (OGC TMS 2.0 JSON)")
def tile_matrix_set(tms_id: str, request: Request) -> Response:
    _json_only(request)
    return _json(_tms(tms_id).model_dump(exclude_none=True, mode="json"))


def _crs_uri(tms) -> str:
    return tms.model_dump(include={"crs"}, mode="json")["crs"]


def _bounding_box(c: Collection) -> dict | None:
    if not c.bbox:
        return None
    return {"lowerLeft": list(c.bbox[:2]), "upperRight": list(c.bbox[2:]), "crs": CRS84}


def _summary(request: Request, c: Collection, tms_id: str) -> dict:
    tms = tile_matrix_sets()[tms_id]
    here = f"{base_url(request)}/collections/{c.id}/tiles/{tms_id}"
    doc = {
        "title": f"{c.title} ({tms_id})",
        "dataType": "vector",
        "crs": _crs_uri(tms),
        "links": [
            {"href": here, "rel": "self", "type": JSON},
            {"href": f"{base_url(request)}/tileMatrixSets/{tms_id}", "rel": TILING_SCHEME, "type": JSON},
        ],
    }
    if tms.uri:
        doc["tileMatrixSetURI"] = tms.uri
    return doc


@router.get("/collections/{collectionId}/tiles", summary="The collection's vector tilesets")
def tilesets(
    c: VisibleCollection,
    request: Request,
) -> Response:
    _json_only(request)
    here = f"{base_url(request)}/collections/{c.id}/tiles"
    return _json(
        {
            "tilesets": [_summary(request, c, tms_id) for tms_id in tile_matrix_sets()],
            "links": [{"href": here, "rel": "self", "type": JSON}],
        }
    )


@router.get("/collections/{collectionId}/tiles/{tms_id}", summary="Tileset metadata (OGC 2D Tileset Metadata)")
def tileset(
    c: VisibleCollection,
    tms_id: str,
    request: Request,
) -> Response:
    _json_only(request)
    tms = _tms(tms_id)
    doc = _summary(request, c, tms_id)
    here = f"{base_url(request)}/collections/{c.id}/tiles/{tms_id}"
    doc["links"].append(
        {"href": f"{here}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}", "rel": "item", "type": MVT, "templated": True}
    )
    if tms_id == WEB_MERCATOR:
        doc["links"].append({"href": f"{here}/tilejson.json", "rel": "describedby", "type": JSON, "title": "TileJSON"})
    doc["tileMatrixSetLimits"] = matrix_limits(tms, c.bbox)
    if (box := _bounding_box(c)) is not None:
        doc["boundingBox"] = box
    doc["layers"] = [
        {
            "id": c.tile_layer,
            "dataType": "vector",
            "geometryDimension": 2,
            "propertiesSchema": {"type": "object", "properties": {k: {"type": "string"} for k in tile_fields(c)}},
        }
    ]
    return _json(doc)


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad/tilejson.json", summary="TileJSON 3.0")
def tilejson(
    c: VisibleCollection,
    request: Request,
) -> Response:
    _json_only(request)
    template = f"{base_url(request)}/collections/{c.id}/tiles/{WEB_MERCATOR}/{{z}}/{{x}}/{{y}}"
    return _json(tiles.tilejson_doc(c, template))


def _index(value: str, field: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise bad(field, f"{value!r} is not a whole number")
    return int(value)


@router.get("/collections/{collectionId}/tiles/{tms_id}/{z}/{x}/{y}", summary="A vector tile (MVT)")
async def tile(
    collection_id: CollectionId,
    tms_id: str,
    z: str,
    x: str,
    y: str,
    request: Request,
    if_none_match: str | None = Header(default=None),
    x_api_key: str | None = Header(default=None),
    authorization: str | None = Header(default=None),
) -> Response:
    """Outside the tile matrix (or its zoom range) is 404, as OGC API – Tiles asks; a non-number is 400."""
    check_known(request, set())
    tms = _tms(tms_id)
    zi, xi, yi = _index(z, "tileMatrix"), _index(x, "tileCol"), _index(y, "tileRow")
    if not tile_exists(tms, zi, xi, yi):
        raise NotFound(
            f"no tile {zi}/{xi}/{yi} in {tms_id}", [{"field": "tileMatrix/tileCol/tileRow", "reason": "outside"}]
        )
    if tms_id == WEB_MERCATOR:
        return await tiles.tile(collection_id, zi, xi, yi, request, if_none_match, x_api_key, authorization)
    hit, c = await run_in_threadpool(_geographic, request, collection_id, zi, xi, yi, x_api_key, authorization)
    headers = {"ETag": hit.etag, "Cache-Control": tiles._cache_control(c)}
    if if_none_match and tiles._matches(if_none_match, hit.etag):
        return Response(status_code=304, headers=headers)
    return Response(hit.data, media_type=MVT, headers=headers)


def _geographic(request: Request, cid: str, z: int, x: int, y: int, key: str | None, auth: str | None):
    c, _ = tiles._caller_and_collection(request, cid, key, auth, False)
    gen = get_read_session()
    session = next(gen)
    try:
        return geographic_tile(maps_state(request), session, c, z, x, y), c
    except DBAPIError as exc:
        raise tiles.store_down(exc) from None
    finally:
        gen.close()
