"""The routing catalogue as data: category rules, time limits and the departments they name.

One schema serves the built-in defaults, YAML files and the API::

    units:        [{code, name, kind}]                       # upserted by code
    rules:        [{category | kind+code, name, owner_unit, territorial_level, note}]
    time_limits:  [{category | kind+code, urgency, value, unit, working}]

CSV files hold one of the two tables; the header decides which (a ``value`` column means time limits).
Routing looks a category up in the store first (subclass, then class) and falls back to the built-in defaults only
when the store has no rule for it at all, so importing one rule never switches the others off.
The defaults come from the domain brief: classes of GB/T 30428-style codes, thematic departments (大方县: streets
and squares → 城市综合执法大队, roads → 交通运输局), limits stated in the sources (litter 2–4 working hours, illegal
structures 15–20 working days). Anything not stated is left to the level defaults in ``LEVEL_DEFAULT_LIMITS``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.routing.categories import CategoryError, parse_category, parse_code, parse_kind
from geogrid.routing.models import LEVELS, LIMIT_UNITS, URGENCIES, RoutingRule, TimeLimit
from geogrid.store.models import Unit
from geogrid.supervision.limits import cap_problem

# seeds/001: within the community 1 day; street office 2 days; other units 3 days (working days).
LEVEL_DEFAULT_LIMITS = {"grid": 1, "community": 1, "street": 2, "district": 3, "owner": 3}

DEFAULT_CATALOGUE: dict[str, list[dict[str, Any]]] = {
    "units": [
        {"code": "dept-cgzf", "name": "城市综合执法大队", "kind": "department"},
        {"code": "dept-jtys", "name": "交通运输局", "kind": "department"},
        {"code": "dept-scjg", "name": "市场监管局", "kind": "department"},
        {"code": "dept-jj", "name": "交警大队", "kind": "department"},
    ],
    "rules": [
        {"category": "component:01", "name": "公用设施", "territorial_level": "grid"},
        {"category": "component:02", "name": "道路交通", "owner_unit": "dept-jtys"},
        {"category": "component:03", "name": "市容环境", "owner_unit": "dept-cgzf"},
        {"category": "component:04", "name": "园林绿化", "owner_unit": "dept-cgzf"},
        {"category": "component:05", "name": "房屋土地", "territorial_level": "community"},
        {"category": "component:06", "name": "其它设施", "territorial_level": "grid"},
        {"category": "event:01", "name": "市容环境", "owner_unit": "dept-cgzf"},
        {"category": "event:0101", "name": "私搭乱建", "owner_unit": "dept-cgzf", "territorial_level": "street"},
        {"category": "event:0102", "name": "暴露垃圾", "owner_unit": "dept-cgzf"},
        {"category": "event:0103", "name": "建筑垃圾渣土", "owner_unit": "dept-cgzf"},
        {"category": "event:0104", "name": "道路保洁", "owner_unit": "dept-cgzf"},
        {"category": "event:02", "name": "宣传广告", "owner_unit": "dept-cgzf"},
        {"category": "event:03", "name": "施工管理", "owner_unit": "dept-cgzf", "territorial_level": "street"},
        {"category": "event:04", "name": "街面秩序", "owner_unit": "dept-cgzf"},
        {"category": "event:05", "name": "突发事件", "territorial_level": "street"},
        {"category": "event:06", "name": "其他事件", "territorial_level": "community"},
    ],
    "time_limits": [
        {"category": "event:0102", "urgency": "normal", "value": 4, "unit": "hours"},
        {"category": "event:0102", "urgency": "urgent", "value": 2, "unit": "hours"},
        {
            "category": "event:0101",
            "urgency": "normal",
            "value": 15,
            "unit": "days",
            "exempt_from_cap": True,
            "exempt_reason": "违法建设查处须立案、调查、告知、听证等法定程序 (Taiyuan table: 15–20 working days)",
        },
    ],
}


class CatalogueError(ValueError):
    """Invalid catalogue data; the message names the source, row and field."""


@dataclass(frozen=True)
class RuleData:
    """A rule as routing reads it, from the store or from the built-in defaults."""

    kind: str
    code: str
    name: str
    owner_unit_code: str | None
    territorial_level: str
    id: int | None = None
    note: str | None = None
    source: str = "store"


@dataclass(frozen=True)
class LimitData:
    kind: str
    code: str
    urgency: str
    value: float
    unit: str
    working: bool = True
    source: str = "store"
    exempt_from_cap: bool = False
    exempt_reason: str | None = None


def _where(source: str, row: int, field: str) -> str:
    return f"{source} row {row} field {field!r}"


def _kind_code(item: dict[str, Any], source: str, row: int) -> tuple[str, str]:
    try:
        if item.get("category") not in (None, ""):
            cat = parse_category(str(item["category"]))
            return cat.kind, cat.code
        if item.get("kind") in (None, "") or item.get("code") in (None, ""):
            raise CatalogueError(f"{_where(source, row, 'category')}: give category (kind:code) or kind and code")
        kind = parse_kind(str(item["kind"]))
        try:
            return kind, parse_code(str(item["code"]))
        except CategoryError as exc:
            raise CatalogueError(f"{_where(source, row, 'code')}: {exc}") from exc
    except CategoryError as exc:
        raise CatalogueError(f"{_where(source, row, 'category')}: {exc}") from exc


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def parse_rule(item: dict[str, Any], source: str = "input", row: int = 1) -> RuleData:
    """Validate one rule mapping (no store access: ``owner_unit`` stays a unit code)."""
    kind, code = _kind_code(item, source, row)
    name = _text(item, "name")
    if name is None:
        raise CatalogueError(f"{_where(source, row, 'name')}: required")
    level = _text(item, "territorial_level") or "grid"
    if level not in LEVELS:
        raise CatalogueError(f"{_where(source, row, 'territorial_level')}: {level!r} is not one of {', '.join(LEVELS)}")
    return RuleData(kind, code, name, _text(item, "owner_unit"), level, note=_text(item, "note"))


def parse_limit(item: dict[str, Any], source: str = "input", row: int = 1) -> LimitData:
    """Validate one time-limit mapping."""
    kind, code = _kind_code(item, source, row)
    urgency = _text(item, "urgency") or "normal"
    if urgency not in URGENCIES:
        raise CatalogueError(f"{_where(source, row, 'urgency')}: {urgency!r} is not one of {', '.join(URGENCIES)}")
    try:
        value = float(item.get("value"))
    except (TypeError, ValueError):
        raise CatalogueError(f"{_where(source, row, 'value')}: {item.get('value')!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise CatalogueError(f"{_where(source, row, 'value')}: must be a positive number")
    unit = _text(item, "unit") or "days"
    if unit not in LIMIT_UNITS:
        raise CatalogueError(f"{_where(source, row, 'unit')}: {unit!r} is not one of {', '.join(LIMIT_UNITS)}")
    working = item.get("working", True)
    if isinstance(working, str):
        if working.strip().lower() not in ("", "true", "false", "1", "0", "yes", "no"):
            raise CatalogueError(f"{_where(source, row, 'working')}: {working!r} is not true/false")
        working = working.strip().lower() in ("", "true", "1", "yes")
    exempt = str(item.get("exempt_from_cap", "")).strip().lower() in ("true", "1", "yes")
    reason = _text(item, "exempt_reason")
    problem = cap_problem(value, unit, bool(working), exempt, reason)
    if problem:
        raise CatalogueError(f"{_where(source, row, 'exempt_reason' if exempt else 'value')}: {problem}")
    return LimitData(kind, code, urgency, value, unit, bool(working), exempt_from_cap=exempt, exempt_reason=reason)


def read_catalogue_text(text: str, fmt: str, source: str = "input") -> dict[str, list[dict[str, Any]]]:
    """Parse YAML or CSV text into the catalogue mapping (not yet validated row by row)."""
    if fmt == "yaml":
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CatalogueError(f"{source}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict) or not set(data) & {"units", "rules", "time_limits"}:
            raise CatalogueError(f"{source}: expected a mapping with units, rules and/or time_limits lists")
        for key in ("units", "rules", "time_limits"):
            if not isinstance(data.get(key, []), list):
                raise CatalogueError(f"{source} field {key!r}: must be a list")
        return {key: list(data.get(key) or []) for key in ("units", "rules", "time_limits")}
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = {h.strip() for h in reader.fieldnames or []}
        rows = [{k.strip(): v for k, v in r.items() if k is not None} for r in reader]
        if "value" in header:
            return {"units": [], "rules": [], "time_limits": rows}
        if "name" in header:
            return {"units": [], "rules": rows, "time_limits": []}
        raise CatalogueError(f"{source}: CSV header must hold rule columns (category, name, …) or time limits (value)")
    raise CatalogueError(f"{source}: unknown format {fmt!r}; use .csv or .yaml")


def read_catalogue_file(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Read a ``.csv``, ``.yaml`` or ``.yml`` catalogue file."""
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}.get(suffix)
    if fmt is None:
        raise CatalogueError(f"{path}: unknown file type {suffix!r}; use .csv, .yaml or .yml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return read_catalogue_text(text, fmt, str(path))


def import_catalogue(session: Session, data: dict[str, list[dict[str, Any]]], source: str = "input") -> dict[str, int]:
    """Upsert units (by code), rules (by kind+code) and limits (by kind+code+urgency); all or nothing."""
    counts = {"units": 0, "rules": 0, "time_limits": 0}
    for row, item in enumerate(data.get("units", []), start=1):
        if not isinstance(item, dict) or not _text(item, "code") or not _text(item, "name"):
            raise CatalogueError(f"{_where(source, row, 'units')}: each unit needs code and name")
        unit = session.scalar(select(Unit).where(Unit.code == _text(item, "code")))
        if unit is None:
            unit = Unit(code=_text(item, "code"))
            session.add(unit)
        unit.name = _text(item, "name")
        unit.kind = _text(item, "kind") or "department"
        counts["units"] += 1
    session.flush()
    for row, item in enumerate(data.get("rules", []), start=1):
        rule = parse_rule(item if isinstance(item, dict) else {}, source, row)
        owner_id = None
        if rule.owner_unit_code:
            owner_id = session.scalar(select(Unit.id).where(Unit.code == rule.owner_unit_code))
            if owner_id is None:
                raise CatalogueError(f"{_where(source, row, 'owner_unit')}: no unit with code {rule.owner_unit_code!r}")
        stored = session.scalar(select(RoutingRule).where(RoutingRule.kind == rule.kind, RoutingRule.code == rule.code))
        if stored is None:
            stored = RoutingRule(kind=rule.kind, code=rule.code)
            session.add(stored)
        stored.name, stored.owner_unit_id = rule.name, owner_id
        stored.territorial_level, stored.note = rule.territorial_level, rule.note
        counts["rules"] += 1
    for row, item in enumerate(data.get("time_limits", []), start=1):
        lim = parse_limit(item if isinstance(item, dict) else {}, source, row)
        key = (TimeLimit.kind == lim.kind, TimeLimit.code == lim.code, TimeLimit.urgency == lim.urgency)
        stored = session.scalar(select(TimeLimit).where(*key))
        if stored is None:
            stored = TimeLimit(kind=lim.kind, code=lim.code, urgency=lim.urgency)
            session.add(stored)
        stored.value, stored.unit, stored.working = lim.value, lim.unit, lim.working
        stored.exempt_from_cap, stored.exempt_reason = lim.exempt_from_cap, lim.exempt_reason
        counts["time_limits"] += 1
    session.flush()
    return counts


def default_rules() -> list[RuleData]:
    return [
        replace(parse_rule(item, "defaults", i), source="defaults")
        for i, item in enumerate(DEFAULT_CATALOGUE["rules"], start=1)
    ]


def default_limits() -> list[LimitData]:
    return [
        replace(parse_limit(item, "defaults", i), source="defaults")
        for i, item in enumerate(DEFAULT_CATALOGUE["time_limits"], start=1)
    ]


def stored_rules(session: Session) -> list[RuleData]:
    """The rules in the store (they take precedence over the built-in defaults)."""
    rows = session.execute(select(RoutingRule, Unit.code).outerjoin(Unit, Unit.id == RoutingRule.owner_unit_id)).all()
    return [
        RuleData(r.kind, r.code, r.name, unit_code, r.territorial_level, id=r.id, note=r.note) for r, unit_code in rows
    ]


def stored_limits(session: Session) -> list[LimitData]:
    """The time limits in the store (they take precedence over the built-in defaults)."""
    return [
        LimitData(r.kind, r.code, r.urgency, r.value, r.unit, r.working, "store", r.exempt_from_cap, r.exempt_reason)
        for r in session.scalars(select(TimeLimit))
    ]
