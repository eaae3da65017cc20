"""``route``: a located report and its category → the responsible unit and the time limit.

Principle (seeds: "部件先属主后属地，事件先属地后属主"):
- a component (部件) goes to its owner department first (the rule's ``owner_unit``), else to the territory;
- an event (事件) goes to the territory first, else to the owner department.
The territory is searched upward from the rule's ``territorial_level``: grid (its responsible unit,
``grid_responsibility``) → community → street → district (the unit attached to that admin area, a unit of kind
``territorial`` preferred). Climbing past the first level is 属地兜底, reported as ``fallback: true``.
A point outside the jurisdiction is not routed (``unit: null``, basis ``outside``).
Rules and limits: the store first (subclass code, then class), then the built-in catalogue.
Time limit: the configured row for the most specific code and the urgency, else the level default of seeds/001
(community 1 working day, street 2, any other unit 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.routing.catalogue import (
    LEVEL_DEFAULT_LIMITS,
    LimitData,
    RuleData,
    default_limits,
    default_rules,
    stored_limits,
    stored_rules,
)
from geogrid.routing.categories import KIND_PRINCIPLE, Category, CategoryError, parse_category
from geogrid.routing.index import IndexService, shared_index
from geogrid.routing.locate import LocateResult, PointError, locate_with
from geogrid.routing.models import LEVELS, URGENCIES
from geogrid.routing.rulebook import Rulebook
from geogrid.store.models import Unit


@dataclass
class RouteResult:
    """Who handles the report and by when; ``rule`` explains how the unit was chosen."""

    lon: float
    lat: float
    crs: str
    category: str
    urgency: str
    outside: bool
    layer: str | None
    grid_code: str | None
    community: dict[str, Any] | None
    street: dict[str, Any] | None
    district: dict[str, Any] | None
    unit: dict[str, Any] | None
    rule: dict[str, Any]
    time_limit: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _area(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {"id": entry["id"], "code": entry["code"], "name": entry["name"]}


def find_rule(rules: list[RuleData], category: Category) -> RuleData | None:
    """The most specific rule: subclass code first, then its class."""
    by_key = {(r.kind, r.code): r for r in rules}
    for code in category.prefixes():
        if (category.kind, code) in by_key:
            return by_key[(category.kind, code)]
    return None


def find_limit(limits: list[LimitData], category: Category, urgency: str) -> LimitData | None:
    by_key = {(r.kind, r.code, r.urgency): r for r in limits}
    for code in category.prefixes():
        if (category.kind, code, urgency) in by_key:
            return by_key[(category.kind, code, urgency)]
    return None


def _territory(loc: LocateResult, start: str) -> tuple[dict[str, Any] | None, str | None]:
    """The first unit found from ``start`` up the chain grid → community → street → district."""
    answer = loc.answer
    for level in LEVELS[LEVELS.index(start) :]:
        holder = answer["grid"] if level == "grid" else answer[level]
        if holder is not None and holder.get("unit") is not None:
            return holder["unit"], level
    return None, None


def parse_request(category: str, urgency: str) -> Category:
    """The category, parsed; the urgency checked."""
    try:
        cat = parse_category(category)
    except CategoryError as exc:
        raise PointError("category", str(exc)) from exc
    if urgency not in URGENCIES:
        raise PointError("urgency", f"{urgency!r} is not one of {', '.join(URGENCIES)}")
    return cat


def pick_rule(stored: list[RuleData], defaults: list[RuleData], cat: Category) -> RuleData:
    rule = find_rule(stored, cat) or find_rule(defaults, cat)
    if rule is None:
        known = sorted({f"{r.kind}:{r.code}" for r in stored + defaults if r.kind == cat.kind and len(r.code) == 2})
        raise PointError("category", f"no routing rule covers {cat}; classes configured: {', '.join(known) or 'none'}")
    return rule


def route_with(
    session: Session,
    index: IndexService,
    lon: float,
    lat: float,
    crs: str | None,
    category: str,
    urgency: str = "normal",
    layer: str | None = None,
) -> RouteResult:
    """Route with a given index service; rules and limits read on ``session`` (sees its uncommitted writes)."""
    cat = parse_request(category, urgency)
    rule = pick_rule(stored_rules(session), default_rules(), cat)
    loc = locate_with(index, lon, lat, crs, layer)
    owner = None
    if rule.owner_unit_code:
        row = session.execute(select(Unit.id, Unit.code, Unit.name).where(Unit.code == rule.owner_unit_code)).first()
        owner = None if row is None else {"id": row.id, "code": row.code, "name": row.name}
    lim = find_limit(stored_limits(session), cat, urgency) or find_limit(default_limits(), cat, urgency)
    return decide(loc, cat, urgency, rule, owner, lim)


def route_located(rulebook: Rulebook, loc: LocateResult, category: str, urgency: str = "normal") -> RouteResult:
    """Route an already located point with the index's in-memory rulebook: no query."""
    cat = parse_request(category, urgency)
    rule = pick_rule(rulebook.rules, rulebook.defaults[0], cat)
    lim = find_limit(rulebook.limits, cat, urgency) or find_limit(rulebook.defaults[1], cat, urgency)
    return decide(loc, cat, urgency, rule, rulebook.owner(rule.owner_unit_code), lim)


def decide(
    loc: LocateResult,
    cat: Category,
    urgency: str,
    rule: RuleData,
    owner: dict[str, Any] | None,
    lim: LimitData | None,
) -> RouteResult:
    """The unit and time limit under the rule, for a located point (the principle in the module docstring)."""
    territory, level = _territory(loc, rule.territorial_level)
    if loc.outside:
        unit, basis, level = None, "outside", None
    else:
        order = [("owner", owner), ("territory", territory)]
        if cat.kind == "event":
            order.reverse()
        basis, unit = next(((b, u) for b, u in order if u is not None), ("none", None))
        if basis != "territory":
            level = None
    first_choice = "owner" if cat.kind == "component" else "territory"
    explain = {
        "principle": KIND_PRINCIPLE[cat.kind],
        "basis": basis,
        "level": level,
        "fallback": basis in ("owner", "territory")
        and (basis != first_choice or (basis == "territory" and level != rule.territorial_level)),
        "rule": {"id": rule.id, "category": f"{rule.kind}:{rule.code}", "name": rule.name, "source": rule.source},
        "owner_unit": rule.owner_unit_code,
        "territorial_level": rule.territorial_level,
    }
    if lim is not None:
        time_limit = {"value": lim.value, "unit": lim.unit, "working": lim.working, "source": lim.source}
        if lim.exempt_from_cap:  # over the 5-working-day cap by rule (geogrid.supervision.limits)
            time_limit |= {"exempt_from_cap": True, "exempt_reason": lim.exempt_reason}
    else:
        days = LEVEL_DEFAULT_LIMITS[level if basis == "territory" and level else "owner"]
        time_limit = {"value": days, "unit": "days", "working": True, "source": "level default"}
    grid = loc.answer["grid"]
    return RouteResult(
        lon=loc.lon,
        lat=loc.lat,
        crs=loc.crs,
        category=str(cat),
        urgency=urgency,
        outside=loc.outside,
        layer=loc.answer["layer"],
        grid_code=None if grid is None else grid["code"],
        community=_area(loc.answer["community"]),
        street=_area(loc.answer["street"]),
        district=_area(loc.answer["district"]),
        unit=unit,
        rule=explain,
        time_limit=time_limit,
    )


def route(
    session: Session,
    lon: float,
    lat: float,
    crs: str | None,
    category: str,
    urgency: str = "normal",
    layer: str | None = None,
) -> RouteResult:
    """Route a report at (lon, lat) in ``crs`` of ``category`` (e.g. ``event:0102``) and ``urgency``."""
    index = shared_index(session.get_bind().url.render_as_string(hide_password=False))
    index.refresh(conn=session.connection())
    return route_with(session, index, lon, lat, crs, category, urgency, layer)
