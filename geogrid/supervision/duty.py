"""Duty beyond the grid's single unit (seeds/002 点位责任清单): rules naming a lead unit and co-handling units for a
grid, for one site, or for every site of a kind (markets, hospitals, parks …), per category or for all categories.

``refine_route`` post-processes a routing result (``geogrid.routing.route``) without changing how routing works:

1. rules matching the report's category are gathered for the sites covering the point, their kinds, and its grid;
2. the winning scope is the first that has a matching rule, in the order site → site kind → grid (a place's rules
   override the grid's; of two overlapping sites the smaller one, the more specific place, wins);
3. within it the most specific lead rule (subclass, class, kind, every category) names the lead unit, and every
   matching co rule adds a co-handling unit;
4. a component that routing gave to its owner (部件先属主) keeps its owner as lead: the duty's units co-handle;
5. the time limit is clamped to the 5-working-day cap unless exempt (``supervision.limits``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.store.models import GridLayer, Unit
from geogrid.supervision.limits import cap_time_limit
from geogrid.supervision.models import DutyRule, DutySite

SCOPE_RANK = {"site": 0, "site_kind": 1, "grid": 2}


@dataclass(frozen=True)
class Match:
    """A duty rule matching the report, with its unit and the size of the place it covers (0 for a grid)."""

    rule: DutyRule
    unit: dict
    place_m2: float

    @property
    def key(self) -> tuple:
        specificity = -1 if self.rule.kind is None else len(self.rule.code)
        return SCOPE_RANK[self.rule.scope], self.place_m2, -specificity, self.rule.id


def matching_rules(
    session: Session, layer: str | None, grid_code: str | None, lon: float, lat: float, category: str
) -> list[Match]:
    """Every duty rule for the sites covering the point, their kinds and the grid, matching ``category``."""
    kind, code = category.split(":")
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), STORE_SRID)
    area = func.ST_Area(func.geography(DutySite.geom))
    sites = session.execute(select(DutySite.id, DutySite.kind, area).where(func.ST_Covers(DutySite.geom, point))).all()
    site_area = {sid: a for sid, _, a in sites}
    kind_area: dict[str, float] = {}
    for _, site_kind, a in sites:
        kind_area[site_kind] = min(a, kind_area.get(site_kind, a))
    targets = [
        (DutyRule.scope == "site") & DutyRule.site_id.in_(list(site_area) or [-1]),
        (DutyRule.scope == "site_kind") & DutyRule.site_kind.in_(list(kind_area) or [""]),
    ]
    if layer is not None and grid_code is not None:
        layer_id = select(GridLayer.id).where(GridLayer.name == layer).scalar_subquery()
        targets.append((DutyRule.scope == "grid") & (DutyRule.layer_id == layer_id) & (DutyRule.grid_code == grid_code))
    category_match = or_(DutyRule.kind.is_(None), (DutyRule.kind == kind) & DutyRule.code.in_(["", code[:2], code]))
    rows = session.execute(
        select(DutyRule, Unit.code, Unit.name)
        .join(Unit, Unit.id == DutyRule.unit_id)
        .where(or_(*targets), category_match)
    ).all()
    out = []
    for rule, unit_code, unit_name in rows:
        place = site_area.get(rule.site_id, 0.0) if rule.scope == "site" else kind_area.get(rule.site_kind or "", 0.0)
        out.append(Match(rule, {"id": rule.unit_id, "code": unit_code, "name": unit_name}, float(place or 0.0)))
    return sorted(out, key=lambda m: m.key)


def choose(matches: list[Match]) -> tuple[dict | None, list[dict], dict] | None:
    """(lead unit or None, co units, explanation) from sorted matches, or None when no rule matches."""
    if not matches:
        return None
    scope = matches[0].rule.scope
    in_scope = [m for m in matches if m.rule.scope == scope]
    leads = [m for m in in_scope if m.rule.role == "lead"]
    lead = leads[0].unit if leads else None
    co: list[dict] = []
    for m in in_scope:
        taken = {u["id"] for u in co} | ({lead["id"]} if lead else set())
        if m.rule.role == "co" and m.unit["id"] not in taken:
            co.append(m.unit)
    explain = {
        "scope": scope,
        "rule_ids": [m.rule.id for m in in_scope],
        "lead_rule_id": leads[0].rule.id if leads else None,
    }
    return lead, co, explain


def refine_route(session: Session, routed: dict, lon: float, lat: float) -> dict:
    """Apply duty rules and the time-limit cap to a routing result dict (store lon/lat); returns the same dict."""
    chosen = None
    if not routed.get("outside") and routed.get("category"):
        layer, grid = routed.get("layer"), routed.get("grid_code")
        chosen = choose(matching_rules(session, layer, grid, lon, lat, routed["category"]))
    return apply_duty(routed, chosen)


def apply_duty(routed: dict, chosen: tuple[dict | None, list[dict], dict] | None) -> dict:
    """The second half of ``refine_route``: the chosen duty (or None) and the time-limit cap applied to ``routed``."""
    routed["co_units"] = []
    if routed.get("time_limit"):
        routed["time_limit"] = cap_time_limit(routed["time_limit"])
    if chosen is None:
        return routed
    lead, co, explain = chosen
    routed_unit = routed.get("unit")
    if (routed.get("rule") or {}).get("basis") == "owner" and routed_unit is not None:
        co = [u for u in ([lead] if lead else []) + co if u["id"] != routed_unit["id"]]
        explain["owner_kept"] = True
    elif lead is not None:
        routed["unit"] = lead
        co = [u for u in co if u["id"] != lead["id"]]
    routed["co_units"] = co
    routed.setdefault("rule", {})["duty"] = explain
    return routed
