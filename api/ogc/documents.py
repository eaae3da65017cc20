"""The JSON documents of the OGC API: landing page, conformance, collection descriptions, paging links.

Conformance classes are declared only for what the routes do (each is tested): Features Part 1 core/GeoJSON/HTML/
OpenAPI, Part 2 CRS, Part 3 queryables, property filters and CQL2 filters (text and JSON, basic comparisons, LIKE/
IN/BETWEEN, S_INTERSECTS with points and boxes), and Tiles core/tileset/tilesets-list/geodata-tilesets/MVT.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request

from geogrid.maps.catalog import Collection
from geogrid.maps.features import CRS84, EPSG4490, SUPPORTED_CRS
from geogrid.maps.features import Query as ItemsQuery

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
MVT = "application/vnd.mapbox-vector-tile"
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0"
_FEATURES = "http://www.opengis.net/spec/ogcapi-features"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    f"{_FEATURES}-1/1.0/conf/core",
    f"{_FEATURES}-1/1.0/conf/geojson",
    f"{_FEATURES}-1/1.0/conf/html",
    f"{_FEATURES}-1/1.0/conf/oas30",
    f"{_FEATURES}-2/1.0/conf/crs",
    f"{_FEATURES}-3/1.0/conf/queryables",
    f"{_FEATURES}-3/1.0/conf/queryables-query-parameters",
    f"{_FEATURES}-3/1.0/conf/filter",
    f"{_FEATURES}-3/1.0/conf/features-filter",
    f"{_CQL2}/cql2-text",
    f"{_CQL2}/cql2-json",
    f"{_CQL2}/basic-cql2",
    f"{_CQL2}/advanced-comparison-operators",
    f"{_CQL2}/basic-spatial-functions",
    f"{_CQL2}/basic-spatial-functions-plus",
    f"{_TILES}/core",
    f"{_TILES}/tileset",
    f"{_TILES}/tilesets-list",
    f"{_TILES}/geodata-tilesets",
    f"{_TILES}/mvt",
    f"{_TILES}/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def landing_doc(request: Request) -> dict:
    base = base_url(request)
    return {
        "title": request.app.title,
        "description": "Management grids (网格化管理) as OGC API – Features collections and vector tiles",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": JSON, "title": "this document"},
            {"href": f"{base}/?f=html", "rel": "alternate", "type": HTML, "title": "this document as HTML"},
            {
                "href": f"{base}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{base}/docs", "rel": "service-doc", "type": HTML},
            {"href": f"{base}/conformance", "rel": "conformance", "type": JSON},
            {"href": f"{base}/collections", "rel": "data", "type": JSON},
            {"href": f"{base}/tileMatrixSets", "rel": f"{OGC_REL}/tiling-schemes", "type": JSON},
            {"href": f"{base}/open311/v2/discovery.json", "rel": "related", "type": JSON, "title": "Open311"},
            {"href": f"{base}/map/", "rel": "alternate", "type": HTML, "title": "web map"},
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def collection_links(base: str, c: Collection) -> list[dict]:
    here = f"{base}/collections/{c.id}"
    return [
        {"href": here, "rel": "self", "type": JSON, "title": c.title},
        {"href": f"{here}/items", "rel": "items", "type": GEOJSON, "title": "features"},
        {"href": f"{here}?f=html", "rel": "alternate", "type": HTML, "title": "this collection as HTML"},
        {"href": f"{here}/queryables", "rel": f"{OGC_REL}/queryables", "type": SCHEMA_JSON, "title": "queryables"},
        {"href": f"{here}/tiles", "rel": f"{OGC_REL}/tilesets-vector", "type": JSON, "title": "vector tilesets"},
        {
            "href": f"{here}/tiles/WebMercatorQuad/tilejson.json",
            "rel": "describedby",
            "type": JSON,
            "title": "TileJSON (WebMercatorQuad vector tiles)",
        },
        {"href": f"{base}/v1/exports/{c.id}?format=gpkg", "rel": "enclosure", "type": "application/geopackage+sqlite3"},
    ]


def collection_doc(request: Request, c: Collection) -> dict:
    doc: dict = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": EPSG4490,
        "links": collection_links(base_url(request), c),
    }
    extent: dict = {}
    if c.bbox:
        extent["spatial"] = {"bbox": [list(c.bbox)], "crs": CRS84}
    if c.kind == "grids":
        extent["temporal"] = {
            "interval": [[_iso(c.valid_from), _iso(c.valid_to)]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
        doc["plan"] = {
            "name": c.plan_name,
            "layer": c.layer,
            "version": c.version,
            "status": c.status,
            "valid_from": _iso(c.valid_from),
            "valid_to": _iso(c.valid_to),
            "report": c.report,
        }
    else:
        doc["level"] = c.level
    if extent:
        doc["extent"] = extent
    return doc


def page_links(request: Request, cid: str, query: ItemsQuery, more: bool) -> list[dict]:
    """self/collection/next/prev for one page of items, keeping every other parameter of the request."""
    base = f"{base_url(request)}/collections/{cid}/items"
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    params["limit"] = str(query.limit)

    def href(offset: int) -> str:
        return f"{base}?{urlencode({**params, 'offset': offset})}"

    links = [
        {"href": href(query.offset), "rel": "self", "type": GEOJSON},
        {"href": f"{base_url(request)}/collections/{cid}", "rel": "collection", "type": JSON},
    ]
    if more:
        links.append({"href": href(query.offset + query.limit), "rel": "next", "type": GEOJSON})
    if query.offset > 0:
        links.append({"href": href(max(query.offset - query.limit, 0)), "rel": "prev", "type": GEOJSON})
    return links
