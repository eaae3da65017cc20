"""The edit operations: each reads its parameters, checks them and changes a ``Work`` (blocks and grid attributes).

- ``move``: blocks (by id) or the land inside a GeoJSON polygon go to grid ``to``. The outline is snapped to block
  borders (road centrelines, grid and community borders) wherever it runs within ``SNAP_M`` of them; where it runs
  deeper inside a block it cuts the block, and each block or piece goes with the side holding most of it. Land
  inside the outline that no grid covers is added to ``to`` where it is wider than 2 × ``SNAP_M``: a gap inside the
  jurisdiction is filled, land outside it is refused (unless ``force``).
- ``merge``: the blocks of ``codes[1:]`` join ``codes[0]``, which keeps its code, name and tier.
- ``split``: ``code`` is divided along ``line``, snapped the same way: near block borders the new border follows
  them, through the middle of a block it follows the line. The largest part keeps the code; the others get the next
  free codes of the community (or ``codes``).
- ``recode``: codes renumbered west→east, north→south inside each community (DB11/T 2157-2023).
- ``set``: a grid's tier and/or name.
"""

from __future__ import annotations

import re

import numpy as np
import shapely
from sqlalchemy import text

from geogrid.partition import PartitionError
from geogrid.partition.codes import grid_codes
from geogrid.planner import blocks as blk
from geogrid.planner.errors import BadEdit, EditRefused
from geogrid.planner.geometry import LINEAR, POLYGONAL, cut, parse_geojson, polygons, to_metric, to_store_crs
from geogrid.planner.work import Work
from geogrid.store.models import TIERS

SNAP_M = 15.0
"""A drawn line or outline within this of a block border follows that border (DOMAIN: borders on centrelines)."""
MAJORITY = 0.5
MAX_BLOCKS = 10_000
NAME_MAX = 200

_BLOCK_CODES = text("SELECT id, grid_code FROM plan_block WHERE plan_id = :p AND id = ANY(:ids)")
_BLOCKS_IN = text(
    "SELECT DISTINCT grid_code FROM plan_block WHERE plan_id = :p AND ST_Intersects(geom, ST_GeomFromWKB(:g, 4490))"
)
_COMMUNITY_AT = text(
    "SELECT id FROM admin_area WHERE level = 'community' AND ST_Covers(geom, ST_GeomFromWKB(:pt, 4490)) "
    "ORDER BY id LIMIT 1"
)
_CODES = text("SELECT code FROM grid WHERE plan_id = :p")
_COMMUNITY_CODES = text("SELECT id, code FROM admin_area WHERE id = ANY(:ids)")


def _code(body: dict, field: str, known: set[str]) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BadEdit(field, "must be a grid code")
    if value not in known:
        raise BadEdit(field, f"no grid {value!r} in this draft")
    return value


def _codes_in_plan(draft) -> set[str]:
    return set(draft.session.execute(_CODES, {"p": draft.plan.id}).scalars())


def _snap_cut(work: Work, block_id: int, lines) -> list | None:
    """A block cut by ``lines`` where they run more than SNAP_M inside it (see ``blocks.snapped_pieces``)."""
    return blk.snapped_pieces(work.blocks[block_id]["geom"], lines, work.srid, SNAP_M)


def _inside_share(geom, shape) -> float:
    """Share of ``geom``'s area inside ``shape`` (store CRS: a ratio, so degrees² do)."""
    return float(shapely.area(shapely.intersection(geom, shape)) / shapely.area(geom))


# --- move ---------------------------------------------------------------------------------------------------------
def _move_blocks(draft, body: dict) -> tuple[Work, dict]:
    ids = body.get("blocks")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise BadEdit("blocks", "must be a non-empty list of block ids")
    if len(ids) > MAX_BLOCKS:
        raise BadEdit("blocks", f"at most {MAX_BLOCKS} blocks per edit")
    found = dict(draft.session.execute(_BLOCK_CODES, {"p": draft.plan.id, "ids": ids}).all())
    unknown = sorted(set(ids) - set(found))
    if unknown:
        raise BadEdit("blocks", f"no block(s) {', '.join(map(str, unknown[:10]))} in this draft")
    to = _code(body, "to", _codes_in_plan(draft))
    moving = sorted(i for i in set(ids) if found[i] != to)
    if not moving:
        raise BadEdit("blocks", f"every block is in grid {to} already")
    work = Work(draft.session, draft.plan.id, draft.srid, {found[i] for i in moving} | {to})
    work.move(moving, to)
    return work, {"blocks": len(moving), "from": sorted({found[i] for i in moving}), "to": to}


def _annex(draft, work: Work, shape, to: str, force: bool) -> list[int]:
    """Land inside ``shape`` that no grid covers, in pieces wider than 2 × SNAP_M (narrower ones are the drawing
    overshooting the grids' edge), added to ``to`` as new blocks."""
    near = draft.session.execute(
        text("SELECT ST_AsBinary(geom) FROM plan_block WHERE plan_id = :p AND geom && ST_GeomFromWKB(:g, 4490)"),
        {"p": draft.plan.id, "g": shapely.to_wkb(shape)},
    ).scalars()
    covered = shapely.union_all(shapely.from_wkb([bytes(b) for b in near]))
    parts = polygons(to_metric(shapely.difference(shape, covered), draft.srid))
    rest = shapely.union_all([p for p in parts if not shapely.buffer(p, -SNAP_M).is_empty])  # thinner: snapped
    if shapely.area(rest) <= 1.0:
        return []
    jur = work.jurisdiction()
    inside = shapely.Polygon() if jur is None else shapely.intersection(rest, jur)
    beyond_ = rest if jur is None else shapely.difference(rest, jur)
    if shapely.area(beyond_) > 1.0 and not force:
        where = "the jurisdiction is unknown (no admin areas loaded)" if jur is None else "it leaves the jurisdiction"
        raise EditRefused(
            f"the geometry adds {shapely.area(beyond_):,.0f} m² outside every grid and {where}; "
            'redraw it inside, or send "force": true',
            [{"rule": "jurisdiction", "area_m2": round(float(shapely.area(beyond_)), 2), "reason": where}],
            field="geometry",
        )
    added = []
    for part in polygons(inside) + (polygons(beyond_) if force else []):
        if part.area <= 1.0:
            continue
        geom = to_store_crs(part, draft.srid)
        pt = shapely.to_wkb(shapely.point_on_surface(geom))
        community = draft.session.execute(_COMMUNITY_AT, {"pt": pt}).scalar()
        added.append(work.add_block(geom, to, community))
    return added


def _move_geometry(draft, body: dict, force: bool) -> tuple[Work, dict]:
    shape = parse_geojson(body.get("geometry"), "geometry", POLYGONAL, body.get("crs"))
    to = _code(body, "to", _codes_in_plan(draft))
    touched = set(draft.session.execute(_BLOCKS_IN, {"p": draft.plan.id, "g": shapely.to_wkb(shape)}).scalars())
    work = Work(draft.session, draft.plan.id, draft.srid, touched | {to})
    outline = shapely.boundary(shape)
    moved, sources = 0, set()
    for k in [k for k, b in work.blocks.items() if b["grid_code"] != to and shapely.intersects(b["geom"], shape)]:
        source = work.blocks[k]["grid_code"]
        pieces = _snap_cut(work, k, outline)
        if pieces is None:
            take = [k] if _inside_share(work.blocks[k]["geom"], shape) >= MAJORITY else []
        else:
            new = work.cut(k, pieces)
            take = [p for p in new if _inside_share(work.blocks[p]["geom"], shape) >= MAJORITY]
        work.move(take, to)
        moved += len(take)
        sources |= {source} if take else set()
    added = _annex(draft, work, shape, to, force)
    if not moved and not added:
        raise BadEdit("geometry", f"takes no land from other grids and adds none to {to}")
    return work, {
        "blocks": moved,
        "from": sorted(sources),
        "to": to,
        "added_blocks": len(added),
        "annexed": bool(added),
    }


def op_move(draft, body: dict, force: bool) -> tuple[Work, dict]:
    if ("blocks" in body) == ("geometry" in body):
        raise BadEdit("blocks", 'give either "blocks" (ids) or "geometry" (GeoJSON), not both')
    return _move_blocks(draft, body) if "blocks" in body else _move_geometry(draft, body, force)


# --- merge --------------------------------------------------------------------------------------------------------
def op_merge(draft, body: dict, force: bool) -> tuple[Work, dict]:
    codes = body.get("codes")
    if not isinstance(codes, list) or len(codes) < 2 or not all(isinstance(c, str) for c in codes):
        raise BadEdit("codes", "must list at least two grid codes")
    if len(set(codes)) != len(codes):
        raise BadEdit("codes", "lists a grid twice")
    known = _codes_in_plan(draft)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise BadEdit("codes", f"no grid(s) {', '.join(unknown)} in this draft")
    work = Work(draft.session, draft.plan.id, draft.srid, codes)
    for code in codes[1:]:
        work.move(work.blocks_of(code), codes[0])
    return work, {"into": codes[0], "merged": codes[1:]}


# --- split --------------------------------------------------------------------------------------------------------
def next_codes(code: str, taken: set[str], n: int) -> list[str]:
    """``n`` unused codes next to ``code``: the next free 3-digit sequences of its community prefix (15-digit
    codes), else ``code-2``, ``code-3`` …"""
    out = []
    if re.fullmatch(r"\d{4,}", code):
        prefix, width = code[:-3], len(code)
        seq = max(int(c[-3:]) for c in taken | {code} if len(c) == width and c.startswith(prefix) and c.isdigit())
        while len(out) < n and seq < 999:
            seq += 1
            if f"{prefix}{seq:03d}" not in taken:
                out.append(f"{prefix}{seq:03d}")
    k = 1
    while len(out) < n:
        k += 1
        if f"{code}-{k}" not in taken:
            out.append(f"{code}-{k}")
    return out


def _sides(work: Work, code: str, line) -> list[list[int]]:
    """The blocks of grid ``code`` (after cutting) grouped by the side of ``line`` they lie on, largest first."""
    gid = work.grid_id(code)
    faces = cut(work.grids_before[gid]["geom"], line)
    if len(faces) < 2:
        raise BadEdit("line", f"does not cross grid {code} from border to border")
    for k in [k for k in work.blocks_of(code) if shapely.intersects(work.blocks[k]["geom"], line)]:
        pieces = _snap_cut(work, k, line)
        if pieces is not None:
            work.cut(k, pieces)
    groups: dict[int, list[int]] = {}
    tree = shapely.STRtree(np.asarray(faces, dtype=object))
    for k in work.blocks_of(code):
        geom = work.blocks[k]["geom"]
        cand = tree.query(geom, predicate="intersects")
        share = shapely.area(shapely.intersection(geom, np.asarray(faces, dtype=object)[cand])) if len(cand) else []
        best = int(cand[int(np.argmax(share))]) if len(cand) else 0
        groups.setdefault(best, []).append(k)
    sides = sorted(groups.values(), key=lambda ks: -sum(work.blocks[k]["area_m2"] for k in ks))
    if len(sides) < 2:
        raise BadEdit("line", f"runs along block borders only and leaves grid {code} whole; draw it across the grid")
    return sides


def op_split(draft, body: dict, force: bool) -> tuple[Work, dict]:
    line = parse_geojson(body.get("line"), "line", LINEAR, body.get("crs"))
    known = _codes_in_plan(draft)
    code = _code(body, "code", known)
    names = body.get("codes")
    work = Work(draft.session, draft.plan.id, draft.srid, [code])
    sides = _sides(work, code, line)
    if names is not None:
        ok = isinstance(names, list) and len(names) == len(sides) - 1 and all(isinstance(c, str) and c for c in names)
        if not ok:
            raise BadEdit("codes", f"the line makes {len(sides)} parts: give {len(sides) - 1} new code(s)")
        taken = [c for c in names if c in known or len(c) > 32]
        if taken or len(set(names)) != len(names):
            raise BadEdit("codes", f"code(s) in use, repeated or too long: {', '.join(taken or names)}")
    new_codes = names or next_codes(code, known, len(sides) - 1)
    parent = work.grids[work.grid_id(code)]
    for side, new in zip(sides[1:], new_codes, strict=True):
        name = f"{parent['name']}-{new[-3:]}" if parent.get("name") else None
        work.add_grid({"code": new, "name": name, "tier": parent["tier"], "community_id": parent["community_id"]})
        work.move(side, new)
    return work, {
        "code": code,
        "new": new_codes,
        "cut_blocks": sum(1 for k in work.blocks if k not in work.blocks_before),
    }


# --- recode, set --------------------------------------------------------------------------------------------------
def op_recode(draft, body: dict, force: bool) -> tuple[Work, dict]:
    work = Work(draft.session, draft.plan.id, draft.srid, _codes_in_plan(draft))
    ids = [k for k, g in work.grids.items() if g["community_id"] is not None]
    if not ids:
        raise BadEdit("op", "no grid has a community: codes are numbered inside communities")
    prefix = dict(
        draft.session.execute(_COMMUNITY_CODES, {"ids": sorted({work.grids[k]["community_id"] for k in ids})}).all()
    )
    geoms = to_metric(np.asarray([work.grids_before[k]["geom"] for k in ids], dtype=object), draft.srid)
    try:
        codes = grid_codes(geoms, np.asarray([prefix[work.grids[k]["community_id"]] for k in ids], dtype=object))
    except PartitionError as exc:
        raise EditRefused(str(exc)) from None
    fixed = {g["code"] for k, g in work.grids.items() if k not in ids}
    clash = sorted(fixed.intersection(codes))
    if clash:
        raise EditRefused(f"new code(s) {', '.join(clash[:5])} are used by grids without a community")
    renamed = {work.grids[k]["code"]: c for k, c in zip(ids, codes, strict=True) if work.grids[k]["code"] != c}
    if not renamed:
        raise BadEdit("op", "the codes already run west→east, north→south inside each community")
    for k, c in zip(ids, codes, strict=True):
        work.grids[k]["code"] = c
    for b in work.blocks.values():
        b["grid_code"] = renamed.get(b["grid_code"], b["grid_code"])
    return work, {"renamed": renamed}


def op_set(draft, body: dict, force: bool) -> tuple[Work, dict]:
    code = _code(body, "code", _codes_in_plan(draft))
    changes = {}
    if "tier" in body:
        if body["tier"] is not None and body["tier"] not in TIERS:
            raise BadEdit("tier", f"must be one of {', '.join(TIERS)} (or null)")
        changes["tier"] = body["tier"]
    if "name" in body:
        if body["name"] is not None and (not isinstance(body["name"], str) or len(body["name"]) > NAME_MAX):
            raise BadEdit("name", f"must be a text of at most {NAME_MAX} characters (or null)")
        changes["name"] = (body["name"] or "").strip() or None
    if not changes:
        raise BadEdit("op", 'give "tier" and/or "name"')
    work = Work(draft.session, draft.plan.id, draft.srid, [code])
    grid = work.grids[work.grid_id(code)]
    grid.update(changes)
    return work, {"code": code, **changes}


OPS = {"move": op_move, "merge": op_merge, "split": op_split, "recode": op_recode, "set": op_set}
