"""The edit journal: every edit is a transition between two sets of rows, so undo and redo are the same code.

An edit records the rows it touched before (``b``) and after (``a``): grids keyed by ``grid.id`` and blocks by
``plan_block.id``. A row on one side only was inserted or deleted; a row on both sides was updated. Geometry is kept
only where it changed (a recode touches every grid's code and no geometry). Applying ``b → a`` does the edit,
``a → b`` undoes it, ``b → a`` again redoes it. Ids survive undo and redo, so the blocks a client selected stay
selectable.

Journal states: ``done`` (applied), ``undone`` (on the redo stack), ``discarded`` (undone, then a new edit was
made), ``log`` (copy, undo and redo entries: who did what, when).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

GRID_ATTRS = ("code", "local_code", "name", "tier", "community_id", "area_m2", "diameter_m")
BLOCK_ATTRS = ("grid_code", "community_id", "outside_m2", "area_m2", "cases")


@dataclass
class Rows:
    """Rows of one side of a transition: ``{id: {attr: value, ..., "geom": shapely | None}}`` per kind."""

    grid: dict[int, dict] = field(default_factory=dict)
    block: dict[int, dict] = field(default_factory=dict)

    def of(self, kind: str) -> dict[int, dict]:
        return self.grid if kind == "grid" else self.block


_READ = {
    "grid": text(
        "SELECT id, code, local_code, name, tier, community_id, area_m2, diameter_m, ST_AsBinary(geom) AS wkb "
        "FROM grid WHERE plan_id = :p AND id = ANY(:ids)"
    ),
    "block": text(
        "SELECT id, grid_code, community_id, outside_m2, area_m2, cases, ST_AsBinary(geom) AS wkb "
        "FROM plan_block WHERE plan_id = :p AND id = ANY(:ids)"
    ),
}
_INSERT = {
    "grid": text(
        "INSERT INTO grid (id, plan_id, code, local_code, name, tier, community_id, area_m2, diameter_m, geom) "
        "SELECT (r->>'id')::int, :p, r->>'code', r->>'local_code', r->>'name', r->>'tier', "
        "(r->>'community_id')::int, (r->>'area_m2')::float8, (r->>'diameter_m')::float8, "
        "ST_Multi(ST_GeomFromWKB(decode(r->>'wkb', 'hex'), 4490)) FROM jsonb_array_elements(CAST(:rows AS jsonb)) r"
    ),
    "block": text(
        "INSERT INTO plan_block (id, plan_id, grid_code, community_id, outside_m2, area_m2, cases, geom) "
        "SELECT (r->>'id')::bigint, :p, r->>'grid_code', (r->>'community_id')::int, (r->>'outside_m2')::float8, "
        "(r->>'area_m2')::float8, (r->>'cases')::int, ST_GeomFromWKB(decode(r->>'wkb', 'hex'), 4490) "
        "FROM jsonb_array_elements(CAST(:rows AS jsonb)) r"
    ),
}
_UPDATE = {
    "grid": text(
        "UPDATE grid g SET code = r->>'code', local_code = r->>'local_code', name = r->>'name', tier = r->>'tier', "
        "community_id = (r->>'community_id')::int, area_m2 = (r->>'area_m2')::float8, "
        "diameter_m = (r->>'diameter_m')::float8, "
        "geom = coalesce(ST_Multi(ST_GeomFromWKB(decode(r->>'wkb', 'hex'), 4490)), g.geom) "
        "FROM jsonb_array_elements(CAST(:rows AS jsonb)) r WHERE g.plan_id = :p AND g.id = (r->>'id')::int"
    ),
    "block": text(
        "UPDATE plan_block b SET grid_code = r->>'grid_code', community_id = (r->>'community_id')::int, "
        "outside_m2 = (r->>'outside_m2')::float8, area_m2 = (r->>'area_m2')::float8, cases = (r->>'cases')::int, "
        "geom = coalesce(ST_GeomFromWKB(decode(r->>'wkb', 'hex'), 4490), b.geom) "
        "FROM jsonb_array_elements(CAST(:rows AS jsonb)) r WHERE b.plan_id = :p AND b.id = (r->>'id')::bigint"
    ),
}
_TABLE = {"grid": "grid", "block": "plan_block"}


def read(session: Session, plan_id: int, kind: str, ids) -> dict[int, dict]:
    """Current rows of ``kind`` by id, with geometry."""
    out = {}
    for r in session.execute(_READ[kind], {"p": plan_id, "ids": [int(i) for i in ids]}).mappings():
        row = dict(r)
        row["geom"] = shapely.from_wkb(bytes(row.pop("wkb")))
        out[int(row.pop("id"))] = row
    return out


def plain(value):
    """numpy scalars as JSON numbers and booleans (``json`` only knows Python's)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _payload(kind: str, rows: dict[int, dict]) -> str:
    attrs = GRID_ATTRS if kind == "grid" else BLOCK_ATTRS
    items = []
    for key, row in rows.items():
        item = {a: row.get(a) for a in attrs} | {"id": int(key)}
        geom = row.get("geom")
        item["wkb"] = None if geom is None else shapely.to_wkb(geom, hex=True)
        items.append(item)
    return json.dumps(items, default=plain)


def apply(session: Session, plan_id: int, frm: Rows, to: Rows) -> None:
    """Make the plan's rows go from ``frm`` to ``to`` (rows absent from both are not touched).

    Order: delete what ``to`` lacks, move updated grids to temporary codes (a recode may swap two codes, and
    ``(plan_id, code)`` is unique row by row), insert what ``frm`` lacked, then update.
    """
    for kind in ("grid", "block"):
        old, new = frm.of(kind), to.of(kind)
        gone = [k for k in old if k not in new]
        added = {k: v for k, v in new.items() if k not in old}
        kept = {k: v for k, v in new.items() if k in old}
        if gone:
            session.execute(
                text(f"DELETE FROM {_TABLE[kind]} WHERE plan_id = :p AND id = ANY(:ids)"), {"p": plan_id, "ids": gone}
            )
        if kind == "grid" and kept:
            session.execute(
                text("UPDATE grid SET code = '~' || id WHERE plan_id = :p AND id = ANY(:ids)"),
                {"p": plan_id, "ids": list(kept)},
            )
        if added:
            session.execute(_INSERT[kind], {"p": plan_id, "rows": _payload(kind, added)})
        if kept:
            session.execute(_UPDATE[kind], {"p": plan_id, "rows": _payload(kind, kept)})


def next_seq(session: Session, plan_id: int) -> int:
    return session.execute(
        text("SELECT coalesce(max(seq), 0) + 1 FROM plan_edit WHERE plan_id = :p"), {"p": plan_id}
    ).scalar_one()


def log(session: Session, plan_id: int, op: str, actor: tuple[str, int | None], **values) -> int:
    """Append a journal entry; returns its id. ``values``: params, state (default ``log``), summary, forced, target."""
    return session.execute(
        text(
            "INSERT INTO plan_edit (plan_id, seq, op, params, state, target_id, forced, summary, actor, account_id) "
            "VALUES (:p, :seq, :op, CAST(:params AS jsonb), :state, :target, :forced, CAST(:summary AS jsonb), "
            ":actor, :account) RETURNING id"
        ),
        {
            "p": plan_id,
            "seq": next_seq(session, plan_id),
            "op": op,
            "params": json.dumps(values.get("params"), ensure_ascii=False, default=plain),
            "state": values.get("state", "log"),
            "target": values.get("target"),
            "forced": bool(values.get("forced", False)),
            "summary": json.dumps(values.get("summary"), ensure_ascii=False, default=plain),
            "actor": actor[0],
            "account": actor[1],
        },
    ).scalar_one()


def record(session: Session, edit_id: int, before: Rows, after: Rows) -> None:
    """Keep both sides of an edit's transition."""
    for side, rows in (("b", before), ("a", after)):
        for kind in ("grid", "block"):
            data = rows.of(kind)
            if not data:
                continue
            session.execute(
                text(
                    "INSERT INTO plan_edit_row (edit_id, side, kind, key, attrs, geom) "
                    "SELECT :e, :side, :kind, (r->>'id')::bigint, r - 'wkb' - 'id', "
                    "ST_GeomFromWKB(decode(r->>'wkb', 'hex'), 4490) FROM jsonb_array_elements(CAST(:rows AS jsonb)) r"
                ),
                {"e": edit_id, "side": side, "kind": kind, "rows": _payload(kind, data)},
            )


def recorded(session: Session, edit_id: int) -> tuple[Rows, Rows]:
    """Both sides of a recorded edit."""
    sides = {"b": Rows(), "a": Rows()}
    rows = session.execute(
        text("SELECT side, kind, key, attrs, ST_AsBinary(geom) AS wkb FROM plan_edit_row WHERE edit_id = :e"),
        {"e": edit_id},
    )
    for r in rows:
        sides[r.side].of(r.kind)[int(r.key)] = dict(r.attrs) | {
            "geom": None if r.wkb is None else shapely.from_wkb(bytes(r.wkb))
        }
    return sides["b"], sides["a"]


def discard_redo(session: Session, plan_id: int) -> None:
    """A new edit ends the redo stack: undone edits become ``discarded`` and drop their rows."""
    ids = (
        session.execute(
            text("UPDATE plan_edit SET state = 'discarded' WHERE plan_id = :p AND state = 'undone' RETURNING id"),
            {"p": plan_id},
        )
        .scalars()
        .all()
    )
    if ids:
        session.execute(text("DELETE FROM plan_edit_row WHERE edit_id = ANY(:ids)"), {"ids": ids})


def last(session: Session, plan_id: int, state: str, newest: bool):
    """The newest ``done`` edit (undo) or the oldest ``undone`` one (redo)."""
    order = "DESC" if newest else "ASC"
    return session.execute(
        text(
            f"SELECT id, seq, op, summary FROM plan_edit WHERE plan_id = :p AND state = :s ORDER BY seq {order} LIMIT 1"
        ),
        {"p": plan_id, "s": state},
    ).one_or_none()
