"""What a client may filter features on (OGC API – Features Part 3 queryables) and how a filter becomes SQL.

Two ways in: simple property filters (``?tier=A&community_code=…``, equality) and CQL2 (text or JSON, parsed by
pygeofilter) with comparisons, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``, ``AND/OR/NOT`` and ``S_INTERSECTS`` with a
point, a bounding box or any GeoJSON geometry.

Why our own compiler over pygeofilter's SQL backends: every name resolves through the collection's queryables (never
a raw column), every literal becomes a bound parameter, and each operand is type-checked, so a bad filter is a 400
that names its fault instead of a database error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pygeofilter import ast
from pygeofilter import values as geo_values

from geogrid import STORE_SRID

GEOMETRY = "geometry"
"""The spatial queryable: the feature's geometry (CQL2 ``S_INTERSECTS(geometry, …)``)."""
FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")
"""``cql-text`` is the draft name of cql2-text that GDAL's OAPIF driver (≤ 3.8) sends; read as CQL2 text."""


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name: its SQL expression, JSON type and whether it needs the admin joins."""

    sql: str
    type: str  # "string" or "number"
    title: str
    joined: bool = False
    enum: tuple[str, ...] | None = None


GRID_QUERYABLES = {
    "code": Queryable("g.code", "string", "网格编码 grid code"),
    "local_code": Queryable("g.local_code", "string", "网格序号 code within the community"),
    "name": Queryable("g.name", "string", "网格名称 grid name"),
    "tier": Queryable("g.tier", "string", "网格等级 tier", enum=("A", "B", "C")),
    "community_code": Queryable("c.code", "string", "社区编码 community code", joined=True),
    "community_name": Queryable("c.name", "string", "社区名称 community name", joined=True),
    "street_code": Queryable("s.code", "string", "街道编码 street code", joined=True),
    "street_name": Queryable("s.name", "string", "街道名称 street name", joined=True),
    "area_m2": Queryable("g.area_m2", "number", "面积 area (m²)"),
    "diameter_m": Queryable("g.diameter_m", "number", "巡查直径 patrol diameter (m)"),
}
ADMIN_QUERYABLES = {
    "code": Queryable("g.code", "string", "行政区划代码 code"),
    "name": Queryable("g.name", "string", "名称 name"),
    "level": Queryable("g.level", "string", "级别 level", enum=("district", "street", "community")),
    "parent_code": Queryable("p.code", "string", "上级代码 parent code", joined=True),
    "area_m2": Queryable("g.area_m2", "number", "面积 area (m²)"),
}


class FilterError(ValueError):
    """A filter we cannot run; ``field`` is the query parameter at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Where:
    """A SQL condition with its bound parameters; ``joined`` when it reads community/street/parent columns."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    joined: bool = False

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) if self.clauses else "TRUE"

    def bind(self, value: Any) -> str:
        """A fresh parameter holding ``value``; returns its placeholder."""
        name = f"f{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def queryables_schema(queryables: Mapping[str, Queryable], title: str, self_url: str) -> dict:
    """The collection's queryables as a JSON Schema (Part 3, ``/req/queryables``)."""
    props: dict[str, dict] = {
        GEOMETRY: {"title": "几何 geometry", "format": "geometry-multipolygon", "x-ogc-role": "primary-geometry"}
    }
    for name, q in queryables.items():
        props[name] = {"title": q.title, "type": q.type}
        if q.enum:
            props[name]["enum"] = list(q.enum)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": self_url,
        "type": "object",
        "title": title,
        "properties": props,
        "additionalProperties": False,
    }


# --- simple property filters ------------------------------------------------------------------------------------
def property_filters(queryables: Mapping[str, Queryable], params: Mapping[str, str], where: Where) -> Where:
    """Add ``name=value`` pairs for queryables to ``where`` (equality; numbers compared as numbers)."""
    for name, raw in params.items():
        q = queryables[name]
        value: Any = raw
        if q.type == "number":
            value = _number(raw, name)
        elif q.enum and raw not in q.enum:
            raise FilterError(name, f"must be one of {', '.join(q.enum)}")
        where.clauses.append(f"{q.sql} = {where.bind(value)}")
        where.joined |= q.joined
    return where


def _number(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FilterError(name, f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise FilterError(name, "must be a finite number")
    return value


# --- CQL2 --------------------------------------------------------------------------------------------------------
def parse_filter(text: str, lang: str | None) -> ast.Node:
    """CQL2 text (default) or JSON into pygeofilter's syntax tree; a syntax error names where it is."""
    lang = (lang or "cql2-text").lower()
    if lang not in FILTER_LANGS:
        raise FilterError("filter-lang", f"{lang!r} is not supported; use {' or '.join(FILTER_LANGS[:2])}")
    try:
        if lang != "cql2-json":
            from pygeofilter.parsers.cql2_text import parse

            return parse(text)
        from pygeofilter.parsers.cql2_json import parse as parse_json

        return parse_json(_bbox_positional(json.loads(text)))
    except Exception as exc:  # lark and json raise many types; all mean "not a filter we can read"
        raise FilterError("filter", _syntax_reason(exc)) from None


def _bbox_positional(node: Any) -> Any:
    """Reorder every ``{"bbox": [minx, miny, maxx, maxy]}`` as (x1, x2, y1, y2).

    Why: pygeofilter's CQL2-JSON parser builds ``Envelope(*bbox)`` positionally, and Envelope's fields are
    (x1, x2, y1, y2); without this a JSON bbox would be read with its corners crossed.
    """
    if isinstance(node, list):
        return [_bbox_positional(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _bbox_positional(v) for k, v in node.items()}
    box = out.get("bbox")
    if isinstance(box, list) and len(box) in (4, 6):
        half = len(box) // 2
        out["bbox"] = [box[0], box[half], box[1], box[half + 1]]
    return out


def _syntax_reason(exc: Exception) -> str:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if line is not None and column is not None:
        return f"syntax error at line {line}, column {column}"
    return f"cannot parse: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"


def compile_filter(node: ast.Node, queryables: Mapping[str, Queryable], where: Where, lat_first: bool = False) -> Where:
    """Add the condition of a parsed CQL2 filter to ``where``; ``lat_first`` when filter-crs puts latitude first."""
    where.clauses.append(_Compiler(queryables, where, lat_first).condition(node))
    return where


_COMPARE = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
SUPPORTED = "comparisons (= <> < <= > >=), LIKE, IN, BETWEEN, IS NULL, AND, OR, NOT and S_INTERSECTS"


@dataclass
class _Compiler:
    queryables: Mapping[str, Queryable]
    where: Where
    lat_first: bool

    def condition(self, node: ast.Node) -> str:
        if isinstance(node, ast.And | ast.Or):
            return f"({self.condition(node.lhs)} {node.op.value} {self.condition(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"NOT ({self.condition(node.sub_node)})"
        if isinstance(node, ast.Include):
            return "FALSE" if node.not_ else "TRUE"
        if type(node) in _COMPARE:
            return self._comparison(node)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.In):
            return self._in(node)
        if isinstance(node, ast.Between):
            lhs = self._attribute(node.lhs, "number", "BETWEEN")
            low, high = self._literal(node.low, "number"), self._literal(node.high, "number")
            return f"{lhs} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high}"
        if isinstance(node, ast.IsNull):
            return f"{self._attribute(node.lhs, None, 'IS NULL')} IS {'NOT ' if node.not_ else ''}NULL"
        if isinstance(node, ast.GeometryIntersects):
            return self._intersects(node)
        raise FilterError("filter", f"{_name(node)} is not supported; supported: {SUPPORTED}")

    def _comparison(self, node: ast.Comparison) -> str:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs  # 'A' = tier reads as tier = 'A'; flip the operator to keep its sense
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(_COMPARE[type(node)], _COMPARE[type(node)])
        else:
            op = _COMPARE[type(node)]
        kind = self._queryable(lhs, op).type
        right = self._attribute(rhs, kind, op) if isinstance(rhs, ast.Attribute) else self._literal(rhs, kind)
        return f"{self.queryables[lhs.name].sql} {op} {right}"

    def _like(self, node: ast.Like) -> str:
        lhs = self._attribute(node.lhs, "string", "LIKE")
        pattern = self._literal(node.pattern, "string")
        return f"{lhs} {'NOT ' if node.not_ else ''}{'ILIKE' if node.nocase else 'LIKE'} {pattern}"

    def _in(self, node: ast.In) -> str:
        kind = self._queryable(node.lhs, "IN").type
        items = ", ".join(self._literal(v, kind) for v in node.sub_nodes)
        return f"{self.queryables[node.lhs.name].sql} {'NOT ' if node.not_ else ''}IN ({items})"

    def _queryable(self, node: Any, op: str) -> Queryable:
        if not isinstance(node, ast.Attribute):
            raise FilterError("filter", f"{op} needs a property on one side (got {_name(node)})")
        if node.name == GEOMETRY:
            raise FilterError("filter", f"{GEOMETRY} can only be used in S_INTERSECTS")
        q = self.queryables.get(node.name)
        if q is None:
            raise FilterError("filter", f"unknown property {node.name!r}; queryables: {', '.join(self.queryables)}")
        self.where.joined |= q.joined
        return q

    def _attribute(self, node: Any, kind: str | None, op: str) -> str:
        q = self._queryable(node, op)
        if kind is not None and q.type != kind:
            raise FilterError("filter", f"{op} needs a {kind} property; {node.name!r} is a {q.type}")
        return q.sql

    def _literal(self, value: Any, kind: str) -> str:
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise FilterError("filter", "numbers must be finite")
            return self.where.bind(value)
        if kind == "string" and isinstance(value, str):
            return self.where.bind(value)
        raise FilterError("filter", f"expected a {kind} literal, got {_name(value)} {value!r}"[:300])

    def _intersects(self, node: ast.GeometryIntersects) -> str:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not (isinstance(lhs, ast.Attribute) and lhs.name == GEOMETRY):
            raise FilterError("filter", f"S_INTERSECTS compares the {GEOMETRY!r} property with a geometry literal")
        return f"ST_Intersects(g.geom, {self._geometry(rhs)})"

    def _geometry(self, value: Any) -> str:
        """A point, bbox or any GeoJSON geometry literal as an EPSG:4490 geometry expression."""
        if isinstance(value, ast.Function) and value.name.lower() == "bbox":
            return self._bbox([*value.arguments])
        if isinstance(value, geo_values.Envelope):
            return self._bbox([value.x1, value.y1, value.x2, value.y2])
        if isinstance(value, geo_values.Geometry):
            geom = value.geometry
            _check_coordinates(geom.get("coordinates"), self.lat_first)
            expr = f"ST_SetSRID(ST_GeomFromGeoJSON({self.where.bind(json.dumps(geom))}), {STORE_SRID})"
            return f"ST_FlipCoordinates({expr})" if self.lat_first else expr
        raise FilterError("filter", f"S_INTERSECTS needs a POINT, BBOX or other geometry literal, got {_name(value)}")

    def _bbox(self, numbers: list) -> str:
        if len(numbers) not in (4, 6) or not all(isinstance(n, int | float) for n in numbers):
            raise FilterError("filter", "BBOX takes 4 (or 6) numbers")
        half = len(numbers) // 2
        a0, b0, a1, b1 = numbers[0], numbers[1], numbers[half], numbers[half + 1]
        x0, y0, x1, y1 = (b0, a0, b1, a1) if self.lat_first else (a0, b0, a1, b1)
        _check_coordinates([[x0, y0], [x1, y1]], False)
        if x0 > x1 or y0 > y1:
            raise FilterError("filter", "BBOX lower corner must come before its upper corner")
        corners = ", ".join(self.where.bind(float(v)) for v in (x0, y0, x1, y1))
        return f"ST_MakeEnvelope({corners}, {STORE_SRID})"


def _check_coordinates(coords: Any, lat_first: bool) -> None:
    """Every position lies on the globe (longitude and latitude in range, in the filter CRS's axis order)."""
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        x, y = (coords[1], coords[0]) if lat_first else (coords[0], coords[1])
        if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            raise FilterError("filter", f"coordinate {list(coords)} is not a longitude/latitude in range")
        return
    for part in coords or ():
        _check_coordinates(part, lat_first)


def _name(node: Any) -> str:
    if isinstance(node, ast.Function):
        return f"function {node.name}()"
    return type(node).__name__
