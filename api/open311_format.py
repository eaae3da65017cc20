"""Open311 GeoReport v2 representations: every answer in JSON or in the spec's XML, errors included.

The XML element names follow wiki.open311.org/GeoReport_v2: a root per endpoint (``services``, ``service_requests``,
``service_definition``, ``discovery``, ``errors``), one element per item (``service``, ``request``, ``error``), and
fixed child names inside lists (``attributes/attribute``, ``values/value``, ``endpoints/endpoint``,
``formats/format``). ``None`` is an empty element, booleans are ``true``/``false``.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import orjson
from fastapi.responses import Response

FORMATS = ("json", "xml")
XML = "text/xml; charset=utf-8"
LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def format_of(path: str) -> str:
    """``xml`` for a path ending in ``.xml``, else ``json`` (the spec's default)."""
    return "xml" if path.lower().endswith(".xml") else "json"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    else:
        element.text = _text(value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(node, LIST_ITEMS.get(tag, "item")), item)
    else:
        _fill(node, value)


def xml_document(root: str, item: str | None, data: Any) -> bytes:
    """``data`` as XML: a list becomes ``<root><item>…</item>…</root>``, a dict the children of ``<root>``."""
    top = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            _fill(ET.SubElement(top, item or "item"), entry)
    else:
        _fill(top, data)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def render(fmt: str, data: Any, root: str, item: str | None, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml_document(root, item, data), status_code=status, media_type=XML)
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def error(fmt: str, status: int, description: str) -> Response:
    """The spec's error list: ``[{"code", "description"}]`` or ``<errors><error>…</error></errors>``."""
    return render(fmt, [{"code": status, "description": description}], "errors", "error", status)
