"""Publish a draft with a note and keep the filing record (备案); carry assignments over by lineage.

One transaction: the impact is computed against the layer's published plan, the plan is published by
``geogrid.store.plans.publish_plan`` (layer lock, validation, NOTIFY at commit), people and units whose grid
was carried move to the new code, open cases gain their grid in the new plan (``case_grid``; their own
``grid_code`` stays), and the filing record keeps who, when, the note, the diff summary and what moved.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geogrid.cases.models import TERMINAL
from geogrid.planner.drafts import Actor, get_plan
from geogrid.planner.errors import BadEdit, EditRefused
from geogrid.planner.impact import impact
from geogrid.planner.models import PlanFiling
from geogrid.store.plans import PublishRefused, publish_plan

NOTE_MAX = 2000

_LINK_CASES = text(
    "INSERT INTO case_grid (case_id, layer_id, plan_id, grid_code) "
    "SELECT c.id, :layer, :plan, n.code FROM case_report c JOIN LATERAL (SELECT g.code FROM grid g "
    "WHERE g.plan_id = :plan AND ST_Covers(g.geom, c.geom) ORDER BY g.code LIMIT 1) n ON true "
    "WHERE c.status <> ALL(:terminal) AND c.geom && (SELECT ST_Extent(geom) FROM grid WHERE plan_id = :plan) "
    "ON CONFLICT (case_id, plan_id) DO NOTHING"
)


def _move_codes(session: Session, table: str, moves: list[tuple[int, str]], same: tuple[str, ...] = ()) -> int:
    """Set ``grid_code`` of rows ``(id, code)`` in one go (codes may swap); returns how many rows were dropped.

    With ``same`` (columns), a moved row that would repeat another row on its new grid (the same person in the same
    role) is dropped, since that assignment is already there; nothing else is ever deleted.
    """
    if not moves:
        return 0
    params = {"ids": [m[0] for m in moves], "codes": [m[1] for m in moves]}
    moved = "unnest(CAST(:ids AS int[]), CAST(:codes AS text[])) m(id, code)"
    session.execute(text(f"UPDATE {table} SET grid_code = '~' || id WHERE id = ANY(:ids)"), params)
    dropped = 0
    if same:
        match = " AND ".join(f"x.{c} = a.{c}" for c in same)
        dropped = session.execute(
            text(
                f"DELETE FROM {table} t USING (SELECT a.id, row_number() OVER (PARTITION BY m.code, "
                f"{', '.join('a.' + c for c in same)} ORDER BY a.id) AS rn, EXISTS (SELECT 1 FROM {table} x "
                f"WHERE x.layer_id = a.layer_id AND x.grid_code = m.code AND {match}) AS there "
                f"FROM {table} a JOIN {moved} ON m.id = a.id) d WHERE t.id = d.id AND (d.rn > 1 OR d.there)"
            ),
            params,
        ).rowcount
    session.execute(text(f"UPDATE {table} a SET grid_code = m.code FROM {moved} WHERE a.id = m.id"), params)
    return dropped


def _note(note) -> str:
    if not isinstance(note, str) or not note.strip():
        raise BadEdit("note", "publishing needs a note for the filing record (备案)")
    if len(note) > NOTE_MAX:
        raise BadEdit("note", f"at most {NOTE_MAX} characters")
    return note.strip()


def publish_draft(session: Session, name: str, note, actor: Actor, force: bool = False) -> dict:
    """Publish draft (or retired plan) ``name`` with ``note``; returns the publication and its filing record.

    A plan already published is left as it is (``changed`` false, no new filing record).
    """
    note = _note(note)
    plan = get_plan(session, name, lock=True)
    if plan.status == "published":
        return {"publication": publish_plan(session, name).to_dict(), "filing": None}
    effect = impact(session, name)
    try:
        result = publish_plan(session, name, force=force)
    except PublishRefused as exc:
        raise EditRefused(str(exc), field="force") from None
    people = [(p["id"], p["to_code"]) for p in effect["people"] if p["fate"] == "carried"]
    units = [(u["id"], u["to_code"]) for u in effect["units"] if u["fate"] == "carried"]
    try:
        merged = _move_codes(session, "grid_assignment", people, ("person_id", "role"))
        _move_codes(session, "grid_responsibility", units)  # impact left one unit per grid: conflicts stay put
    except IntegrityError:  # the directory changed under the impact just computed; nothing is kept
        raise EditRefused("grid assignments changed while publishing; publish again", field="name") from None
    terminal = list(TERMINAL)
    linked = session.execute(_LINK_CASES, {"layer": plan.layer_id, "plan": plan.id, "terminal": terminal}).rowcount
    summary = {
        "grids": effect.get("grids"),
        "impact": effect["summary"],
        "carried": {"people": len(people) - merged, "people_merged": merged, "units": len(units)},
        "cases_linked": linked,
        "forced": result.forced,
        "warnings": result.warnings,
    }
    previous = (effect.get("against") or {}).get("name")
    filing = PlanFiling(
        plan_id=plan.id, action="publish", note=note, previous_plan=previous, summary=summary, actor=actor[0]
    )
    filing.account_id = actor[1]
    session.add(filing)
    session.flush()
    return {"publication": result.to_dict(), "filing": filing_view(filing)}


def filing_view(f: PlanFiling) -> dict:
    return {
        "id": f.id,
        "action": f.action,
        "note": f.note,
        "actor": f.actor,
        "at": f.created_at.isoformat() if f.created_at else None,
        "previous_plan": f.previous_plan,
        "summary": f.summary,
    }


def history(session: Session, name: str) -> dict:
    """A plan's filing records and its edit journal (newest first), and where it was copied from."""
    from geogrid.planner.edits import journal_of

    plan = get_plan(session, name)
    parent = session.execute(
        text("SELECT p.name FROM plan_workbench w JOIN plan p ON p.id = w.parent_id WHERE w.plan_id = :p"),
        {"p": plan.id},
    ).scalar()
    filings = session.query(PlanFiling).filter(PlanFiling.plan_id == plan.id).order_by(PlanFiling.id.desc()).all()
    return {
        "plan": {
            "name": plan.name,
            "layer": plan.layer.name,
            "version": plan.version,
            "status": plan.status,
            "valid_from": plan.valid_from.isoformat() if plan.valid_from else None,
            "valid_to": plan.valid_to.isoformat() if plan.valid_to else None,
            "source": plan.source,
            "copied_from": parent,
        },
        "filings": [filing_view(f) for f in filings],
        "edits": journal_of(session, plan),
    }
