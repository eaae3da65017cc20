"""Edit, undo and redo a draft: one transaction each, answered with the changed grids and the live checks.

An edit is refused (``EditRefused``, HTTP 409) when it would put more land across a community border or outside
the jurisdiction, or make grids overlap, unless the request says ``"force": true`` (then it is journaled as forced).
The check runs on the rows as they would be after the edit, inside the transaction, which is rolled back on refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.planner import journal
from geogrid.planner.checks import breaks, grid_metrics, summary, update_state
from geogrid.planner.drafts import Actor, open_draft
from geogrid.planner.errors import BadEdit, EditRefused
from geogrid.planner.journal import Rows
from geogrid.planner.models import PlanWorkbench
from geogrid.planner.ops import OPS
from geogrid.store.models import Plan

_FEATURES = text(
    "SELECT json_build_object('type', 'Feature', 'id', code, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, "
    "'properties', json_build_object('code', code, 'name', name, 'tier', tier, 'community_id', community_id, "
    "'area_m2', round(area_m2::numeric, 1), 'diameter_m', round(diameter_m::numeric, 1))) "
    "FROM grid WHERE plan_id = :p AND id = ANY(:ids) ORDER BY code"
)
_STACKS = text(
    "SELECT count(*) FILTER (WHERE state = 'done') AS done, count(*) FILTER (WHERE state = 'undone') AS undone "
    "FROM plan_edit WHERE plan_id = :p"
)


@dataclass
class Draft:
    """An open draft: what every operation needs."""

    session: Session
    plan: Plan
    wb: PlanWorkbench
    srid: int
    actor: Actor


def _open(session: Session, name: str, actor: Actor) -> Draft:
    plan, wb = open_draft(session, name, actor)
    return Draft(session, plan, wb, wb.metric_srid, actor)


def _codes(rows: Rows) -> set[str]:
    return {r["code"] for r in rows.grid.values()}


def _answer(d: Draft, edit_id: int, changed: set[int], removed: list[str]) -> dict:
    s = d.session
    entry = s.execute(
        text("SELECT id, seq, op, state, forced, summary, actor, created_at FROM plan_edit WHERE id = :e"),
        {"e": edit_id},
    ).one()
    features = s.execute(_FEATURES, {"p": d.plan.id, "ids": sorted(changed)}).scalars().all()
    stacks = s.execute(_STACKS, {"p": d.plan.id}).one()
    return {
        "plan": d.plan.name,
        "edit": {
            "id": entry.id,
            "seq": entry.seq,
            "op": entry.op,
            "forced": entry.forced,
            "summary": entry.summary,
            "actor": entry.actor,
            "at": entry.created_at.isoformat(),
        },
        "changed": {"type": "FeatureCollection", "features": features},
        "removed": sorted(removed),
        "checks": summary(s, d.plan.id, d.wb.checks),
        "can_undo": stacks.done > 0,
        "can_redo": stacks.undone > 0,
    }


def _switch(d: Draft, frm: Rows, to: Rows, cover_changed: bool) -> tuple[dict, dict]:
    """Apply ``frm → to``; returns the checks' state before and after (the workbench keeps the new one)."""
    old = d.wb.checks or {}
    journal.apply(d.session, d.plan.id, frm, to)
    reshaped = {k for k, r in to.grid.items() if r.get("geom") is not None}
    gone = {k for k in frm.grid if k not in to.grid}
    new = update_state(d.session, d.plan.id, old, d.srid, reshaped, gone, cover_changed)
    d.wb.checks = new
    return old, new


def edit(session: Session, name: str, body: dict, actor: Actor) -> dict:
    """Apply one operation (``body["op"]``) to draft ``name``; see ``geogrid.planner.ops``."""
    if not isinstance(body, dict):
        raise BadEdit("body", "must be a JSON object with an op")
    handler = OPS.get(body.get("op"))
    if handler is None:
        raise BadEdit("op", f"must be one of {', '.join(OPS)}")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadEdit("force", "must be true or false")
    d = _open(session, name, actor)
    work, info = handler(d, body, force)
    before, after, reshaped, gone = work.finish()
    if not (after.grid or after.block or before.grid or before.block):
        raise BadEdit("op", "changes nothing")
    cover_changed = bool(info.get("annexed"))
    with session.begin_nested():  # a refusal rolls the rows back here, whatever the caller does with the error
        m_before = grid_metrics(session, d.plan.id, sorted(_codes(before)))
        old, new = _switch(d, before, after, cover_changed)
        m_after = grid_metrics(session, d.plan.id, sorted(_codes(after)))
        touched = reshaped | gone
        broken = breaks(
            m_before,
            m_after,
            [o for o in old.get("overlaps", []) if touched.intersection(o["ids"])],
            [o for o in new["overlaps"] if reshaped.intersection(o["ids"])],
        )
        if broken and not force:
            d.wb.checks = old
            raise EditRefused(
                "edit refused: " + "; ".join(b["reason"] for b in broken) + ' (send "force": true to apply it anyway)',
                broken,
            )
    journal.discard_redo(session, d.plan.id)
    info = json.loads(json.dumps(info | {"cover_changed": cover_changed, "breaks": broken}, default=journal.plain))
    edit_id = journal.log(
        session, d.plan.id, body["op"], actor, params=body, state="done", forced=bool(broken), summary=info
    )
    journal.record(session, edit_id, before, after)
    session.flush()
    removed = [before.grid[k]["code"] for k in gone]
    return _answer(d, edit_id, set(after.grid) - gone, removed)


def _step(session: Session, name: str, actor: Actor, undo: bool) -> dict:
    d = _open(session, name, actor)
    entry = journal.last(session, d.plan.id, "done" if undo else "undone", newest=undo)
    if entry is None:
        raise EditRefused(f"nothing to {'undo' if undo else 'redo'} in {name!r}", field="undo" if undo else "redo")
    before, after = journal.recorded(session, entry.id)
    frm, to = (after, before) if undo else (before, after)
    _switch(d, frm, to, bool((entry.summary or {}).get("cover_changed")))
    session.execute(
        text("UPDATE plan_edit SET state = :s WHERE id = :e"), {"s": "undone" if undo else "done", "e": entry.id}
    )
    op = "undo" if undo else "redo"
    log_id = journal.log(session, d.plan.id, op, actor, target=entry.id, params={"seq": entry.seq, "op": entry.op})
    session.flush()
    removed = [frm.grid[k]["code"] for k in frm.grid if k not in to.grid]
    return _answer(d, log_id, set(to.grid), removed)


def undo(session: Session, name: str, actor: Actor) -> dict:
    """Undo the newest edit still applied."""
    return _step(session, name, actor, undo=True)


def redo(session: Session, name: str, actor: Actor) -> dict:
    """Redo the oldest undone edit (a new edit discards them)."""
    return _step(session, name, actor, undo=False)


def checks(session: Session, name: str, actor: Actor) -> dict:
    """The live checks of a draft without editing it (prepares a draft that never was)."""
    d = _open(session, name, actor)
    stacks = session.execute(_STACKS, {"p": d.plan.id}).one()
    return {
        "plan": name,
        "checks": summary(session, d.plan.id, d.wb.checks),
        "can_undo": stacks.done > 0,
        "can_redo": stacks.undone > 0,
    }


def journal_of(session: Session, plan: Plan, limit: int = 500) -> list[dict]:
    """The draft's journal, newest first: every edit, undo, redo and copy with who and when."""
    rows = session.execute(
        text(
            "SELECT seq, op, state, forced, params, summary, actor, created_at FROM plan_edit WHERE plan_id = :p "
            "ORDER BY seq DESC LIMIT :n"
        ),
        {"p": plan.id, "n": limit},
    ).mappings()
    return [dict(r) | {"created_at": r["created_at"].isoformat()} for r in rows]
