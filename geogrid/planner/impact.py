"""What publishing a draft would change for the people and cases tied to grid codes of its layer.

Against the layer's published plan, by lineage (``diff.lineage``), each old grid code gets a fate:

- ``kept``: one new grid holds ≥ ``CARRY_SHARE`` of it under the same code, or the same code holds its largest part;
- ``carried``: one new grid with another code holds ≥ ``CARRY_SHARE`` of it: assignments move to that code;
- ``orphaned``: no new grid holds that much and its code is gone: assignments stay on the old code, to be redone.

A grid's unit (``grid_responsibility``, one per grid) cannot be carried onto a code that already has one: such a
row is a ``conflict`` and stays where it is. Open cases are located in both plans; those whose grid changes are
listed (the case keeps its code and, on publication, gains the new one).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.cases.models import TERMINAL
from geogrid.planner.diff import classify, lineage
from geogrid.planner.drafts import get_plan
from geogrid.planner.errors import EditRefused
from geogrid.store.models import Plan

CARRY_SHARE = 0.9

_PUBLISHED = text("SELECT id FROM plan WHERE layer_id = :l AND status = 'published'")
_GRID_AT = (
    "LEFT JOIN LATERAL (SELECT g.code FROM grid g WHERE g.plan_id = :{p} AND ST_Covers(g.geom, c.geom) "
    "ORDER BY g.code LIMIT 1) {alias} ON true"
)
_CASES = f"""
SELECT c.id, c.status, c.category, c.created_at,
       coalesce(cg.grid_code, c.route->'grids'->:layer->>'code',
                CASE WHEN c.route->>'layer' = :layer THEN c.grid_code END, o.code) AS old_code,
       n.code AS new_code
FROM case_report c
LEFT JOIN case_grid cg ON cg.case_id = c.id AND cg.plan_id = :old
{_GRID_AT.format(p="old", alias="o")}
{_GRID_AT.format(p="new", alias="n")}
WHERE c.status <> ALL(:terminal)
  AND c.geom && (SELECT ST_Extent(geom) FROM grid WHERE plan_id IN (:old, :new))
ORDER BY c.id
"""
_PEOPLE = text(
    "SELECT a.id, a.grid_code, a.role, p.id AS person_id, p.name AS person, u.code AS unit_code, u.name AS unit "
    "FROM grid_assignment a JOIN person p ON p.id = a.person_id LEFT JOIN unit u ON u.id = p.unit_id "
    "WHERE a.layer_id = :l ORDER BY a.grid_code, a.role, p.name"
)
_UNITS = text(
    "SELECT r.id, r.grid_code, u.code AS unit_code, u.name AS unit FROM grid_responsibility r "
    "JOIN unit u ON u.id = r.unit_id WHERE r.layer_id = :l ORDER BY r.grid_code"
)


def fates(rows: list[dict], old_codes: set[str], new_codes: set[str]) -> dict[str, dict]:
    """Old code → ``{"fate", "to_code", "share"}`` from lineage rows (largest share first per old code)."""
    best: dict[str, dict] = {}
    for r in rows:
        if r["from_code"] not in best or r["share_of_from"] > best[r["from_code"]]["share_of_from"]:
            best[r["from_code"]] = r
    out = {}
    for code in old_codes:
        top = best.get(code)
        if top is not None and top["share_of_from"] >= CARRY_SHARE:
            fate = "kept" if top["to_code"] == code else "carried"
            out[code] = {"fate": fate, "to_code": top["to_code"], "share": top["share_of_from"]}
        elif code in new_codes and top is not None and top["to_code"] == code:
            out[code] = {"fate": "kept", "to_code": code, "share": top["share_of_from"]}
        else:
            out[code] = {"fate": "orphaned", "to_code": None, "share": top["share_of_from"] if top else 0.0}
    return out


def _fate_of(code: str, table: dict[str, dict], new_codes: set[str]) -> dict:
    """A row's fate by its code; a code the published plan lacks is kept if the draft has it, else orphaned."""
    if code in table:
        return table[code]
    return {"fate": "kept" if code in new_codes else "orphaned", "to_code": code if code in new_codes else None}


def _units(session: Session, layer_id: int, table: dict, new_codes: set[str]) -> list[dict]:
    rows = [
        dict(r) | _fate_of(r.grid_code, table, new_codes) for r in session.execute(_UNITS, {"l": layer_id}).mappings()
    ]
    taken = {r["to_code"] if r["fate"] == "kept" else r["grid_code"] for r in rows if r["fate"] != "carried"}
    for r in sorted((r for r in rows if r["fate"] == "carried"), key=lambda r: -r.get("share", 0.0)):
        if r["to_code"] in taken:
            r["fate"], r["reason"] = "conflict", f"grid {r['to_code']} has a unit already"
        else:
            taken.add(r["to_code"])
    return rows


def _cases(session: Session, layer: str, old_id: int, new_id: int) -> list[dict]:
    params = {"layer": layer, "old": old_id, "new": new_id, "terminal": list(TERMINAL)}
    out = []
    for r in session.execute(text(_CASES), params).mappings():
        if r["old_code"] != r["new_code"]:
            out.append(dict(r) | {"created_at": r["created_at"].isoformat()})
    return out


def published_of(session: Session, plan: Plan) -> Plan | None:
    pid = session.execute(_PUBLISHED, {"l": plan.layer_id}).scalar()
    return None if pid is None else session.get(Plan, pid)


def impact(session: Session, name: str) -> dict:
    """The impact of publishing draft ``name`` on cases, people, units and routing."""
    plan = get_plan(session, name)
    if plan.status == "published":
        raise EditRefused(f"plan {name!r} is the published plan already: nothing would change", field="name")
    current = published_of(session, plan)
    if current is None:
        empty = {"cases": 0, "people": {}, "units": {}, "routing_rules": 0}
        return {
            "plan": name,
            "against": None,
            "summary": empty,
            "cases": [],
            "people": [],
            "units": [],
            "routing_rules": [],
        }
    rows, a_rows, b_rows = lineage(session, current, plan)
    new_codes = {r.code for r in b_rows}
    table = fates(rows, {r.code for r in a_rows}, new_codes)
    people = [
        dict(r) | _fate_of(r.grid_code, table, new_codes)
        for r in session.execute(_PEOPLE, {"l": plan.layer_id}).mappings()
    ]
    units = _units(session, plan.layer_id, table, new_codes)
    routing = [u for u in units if u["grid_code"] not in new_codes]
    cases = _cases(session, plan.layer.name, current.id, plan.id)

    def count(items: list[dict]) -> dict:
        out: dict[str, int] = {}
        for item in items:
            out[item["fate"]] = out.get(item["fate"], 0) + 1
        return out

    return {
        "plan": name,
        "against": {"name": current.name, "version": current.version},
        "summary": {"cases": len(cases), "people": count(people), "units": count(units), "routing_rules": len(routing)},
        "grids": {k: len(v) for k, v in classify(rows, a_rows, b_rows).items()},
        "cases": cases,
        "people": people,
        "units": units,
        "routing_rules": routing,
    }
