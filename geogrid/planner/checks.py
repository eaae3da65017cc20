"""Live checks of a whole draft, kept up to date edit by edit instead of recomputed from scratch.

What each part costs and how it is kept:

- per grid (area, diameter against its tier's cap, parts, area outside its community, area outside the
  jurisdiction, cases): one SQL aggregate over ``grid`` and ``plan_block`` — blocks carry their community, their
  area outside the jurisdiction and their case count, so none of this needs geometry;
- overlaps between grids: kept in ``plan_workbench.checks`` and recomputed only for the grids an edit reshaped,
  against their neighbours;
- coverage and gaps: kept, and recomputed (one union of the plan) only when an edit changed the land the plan
  covers — moving, merging, splitting, recoding and renaming never do, since grids are unions of disjoint blocks.

Tolerances are validation's (``geogrid.validation.Tolerances``), so a draft that passes here passes
``geogrid plan validate``; ``tests/planner`` checks the kept figures against a full recomputation.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.config import DEFAULT_TIERS
from geogrid.metrics.compactness import area_cv, max_mean_ratio
from geogrid.planner.geometry import to_metric, transformer
from geogrid.validation import Tolerances
from geogrid.validation import checks as topology
from geogrid.validation.report import MAX_LISTED, jurisdiction

TOL = Tolerances()
CAPS_M = {tier: spec.max_diameter_m for tier, spec in DEFAULT_TIERS.items()}
"""Patrol diameter cap per tier (A 1.5 km, B 3 km, C 5 km), as the partition engine uses them."""

_METRICS = """
SELECT g.id, g.code, g.name, g.tier, g.community_id, g.area_m2, g.diameter_m, ST_NumGeometries(g.geom) AS parts,
       coalesce(b.crossing, 0) AS crossing_m2, coalesce(b.outside, 0) AS outside_m2, coalesce(b.cases, 0) AS cases
FROM grid g LEFT JOIN LATERAL (
    SELECT sum(k.area_m2) FILTER (WHERE g.community_id IS NOT NULL
                                    AND k.community_id IS DISTINCT FROM g.community_id) AS crossing,
           sum(k.outside_m2) AS outside, sum(k.cases) AS cases
    FROM plan_block k WHERE k.plan_id = g.plan_id AND k.grid_code = g.code) b ON true
WHERE g.plan_id = :p {where}
ORDER BY g.code
"""
_NEAR = text(
    "SELECT b.id, ST_AsBinary(b.geom) AS wkb FROM grid b WHERE b.plan_id = :p AND (b.id = ANY(:ids) OR EXISTS "
    "(SELECT 1 FROM grid a WHERE a.plan_id = :p AND a.id = ANY(:ids) AND a.geom && b.geom))"
)
_ALL = text("SELECT id, ST_AsBinary(geom) AS wkb FROM grid WHERE plan_id = :p")


def grid_metrics(session: Session, plan_id: int, codes: list[str] | None = None) -> list[dict]:
    """Per grid: what the checks add up (see the module docstring)."""
    where = "" if codes is None else "AND g.code = ANY(:codes)"
    rows = session.execute(text(_METRICS.format(where=where)), {"p": plan_id, "codes": codes or []}).mappings()
    return [dict(r) for r in rows]


def beyond(part_m2: float, area_m2: float | None) -> bool:
    """Validation's rule for a crossing or leaving the jurisdiction: over both the m² and the share tolerance."""
    return part_m2 > TOL.outside_min_m2 and part_m2 > TOL.outside_min_share * (area_m2 or 0.0)


def _lonlat(points: np.ndarray, srid: int) -> list[list[float]]:
    if len(points) == 0:
        return []
    lon, lat = transformer(srid, STORE_SRID).transform(shapely.get_x(points), shapely.get_y(points))
    return np.round(np.column_stack([lon, lat]), 7).tolist()


def overlaps_of(session: Session, plan_id: int, ids: list[int] | None, srid: int) -> list[dict]:
    """Overlaps between grids (above tolerance) that involve one of ``ids`` (every grid when None)."""
    rows = session.execute(_ALL if ids is None else _NEAR, {"p": plan_id, "ids": ids or []}).all()
    if not rows:
        return []
    keys = np.array([r.id for r in rows])
    geoms = to_metric(shapely.from_wkb([bytes(r.wkb) for r in rows]), srid)
    broken = ~shapely.is_valid(geoms)
    geoms[broken] = shapely.make_valid(geoms[broken])
    pieces = topology.overlaps(geoms, TOL.overlap_min_m2)
    left, right = keys[pieces.left], keys[pieces.right]
    mine = np.ones(len(left), dtype=bool) if ids is None else np.isin(left, ids) | np.isin(right, ids)
    points = _lonlat(pieces.points[mine], srid)
    return [
        {"ids": sorted([int(a), int(b)]), "area_m2": round(float(s), 2), "location": p}
        for a, b, s, p in zip(left[mine], right[mine], pieces.area[mine], points, strict=True)
    ]


def cover_state(session: Session, plan_id: int, srid: int) -> dict:
    """Coverage of the jurisdiction and the gaps in it (one union of the plan's grids)."""
    geoms = to_metric(shapely.from_wkb([bytes(r.wkb) for r in session.execute(_ALL, {"p": plan_id})]), srid)
    cover = shapely.union_all(shapely.make_valid(geoms))
    jur, level = jurisdiction(session, plan_id, CRS.from_epsg(srid))
    gaps = topology.gaps(cover, jur, TOL.gap_min_m2)
    state = {
        "jurisdiction": {"level": level, "area_m2": None if jur is None else round(float(shapely.area(jur)), 2)},
        "covered_m2": None if jur is None else round(float(shapely.area(shapely.intersection(cover, jur))), 2),
        "gap_count": len(gaps.area),
        "gap_m2": round(float(gaps.area.sum()), 2),
        "gaps": [
            {"area_m2": round(float(a), 2), "location": p}
            for a, p in zip(gaps.area[:MAX_LISTED], _lonlat(gaps.points[:MAX_LISTED], srid), strict=True)
        ],
    }
    return state


def initial_state(session: Session, plan_id: int, srid: int) -> dict:
    """Everything the live checks keep, computed from scratch."""
    return cover_state(session, plan_id, srid) | {"overlaps": overlaps_of(session, plan_id, None, srid)}


def update_state(
    session: Session, plan_id: int, state: dict, srid: int, reshaped: set[int], gone: set[int], cover_changed: bool
) -> dict:
    """``state`` after an edit that reshaped grids ``reshaped`` and deleted ``gone`` (ids)."""
    touched = reshaped | gone
    kept = [o for o in state.get("overlaps", []) if not touched.intersection(o["ids"])]
    fresh = overlaps_of(session, plan_id, sorted(reshaped), srid) if reshaped else []
    state = {**state, "overlaps": kept + fresh}
    if cover_changed:
        state |= cover_state(session, plan_id, srid)
    return state


def breaks(before: list[dict], after: list[dict], old_overlaps: list[dict], new_overlaps: list[dict]) -> list[dict]:
    """Hard rules an edit would break: more land across a community border or outside the jurisdiction, or a new
    overlap. ``before``/``after``: ``grid_metrics`` of the grids the edit touched, on each side of it."""
    out = []
    for key, rule, words in (
        ("crossing_m2", "community", "outside its community"),
        ("outside_m2", "jurisdiction", "outside the jurisdiction"),
    ):
        grew = sum(r[key] for r in after) - sum(r[key] for r in before)
        if grew <= TOL.outside_min_m2:
            continue
        for r in after:
            if beyond(r[key], r["area_m2"]):
                reason = f"grid {r['code']} would have {r[key]:,.0f} m² {words}"
                out.append({"rule": rule, "code": r["code"], "area_m2": round(r[key], 2), "reason": reason})
    old = {tuple(o["ids"]): o["area_m2"] for o in old_overlaps}
    codes = {r["id"]: r["code"] for r in after}
    for o in new_overlaps:
        if o["area_m2"] > old.get(tuple(o["ids"]), 0.0) + TOL.overlap_min_m2:
            pair = [codes.get(i, str(i)) for i in o["ids"]]
            reason = f"grids {pair[0]} and {pair[1]} would overlap by {o['area_m2']:,.0f} m²"
            out.append({"rule": "overlap", "codes": pair, "area_m2": o["area_m2"], "reason": reason})
    return out


def _balance(values: np.ndarray) -> dict:
    return {
        "cv": round(area_cv(values), 4) if len(values) else None,
        "max_mean_ratio": round(max_mean_ratio(values), 4) if len(values) else None,
    }


def _tiers(rows: list[dict]) -> dict:
    """Size and workload balance and the largest diameter, per tier (σ/μ: ``geogrid.metrics.compactness``)."""
    out = {}
    for tier in sorted({r["tier"] or "-" for r in rows}):
        mine = [r for r in rows if (r["tier"] or "-") == tier]
        areas = np.array([r["area_m2"] or 0.0 for r in mine])
        cases = np.array([r["cases"] for r in mine], dtype=float)
        out[tier] = {
            "grids": len(mine),
            "mean_area_m2": round(float(areas.mean()), 1),
            "area": _balance(areas),
            "workload": _balance(cases) if cases.sum() > 0 else {"cv": None, "max_mean_ratio": None},
            "max_diameter_m": round(max(r["diameter_m"] or 0.0 for r in mine), 1),
            "cap_m": CAPS_M.get(tier),
        }
    return out


def summary(session: Session, plan_id: int, state: dict) -> dict:
    """The live checks of the whole draft, as every edit answer and ``GET …/checks`` return them."""
    rows = grid_metrics(session, plan_id)
    codes = {r["id"]: r["code"] for r in rows}
    over_cap = [
        {"code": r["code"], "tier": r["tier"], "diameter_m": round(r["diameter_m"], 1), "cap_m": CAPS_M[r["tier"]]}
        for r in rows
        if r["tier"] in CAPS_M and (r["diameter_m"] or 0) > CAPS_M[r["tier"]]
    ]
    crossings = [
        {"code": r["code"], "outside_m2": round(r["crossing_m2"], 2)}
        for r in rows
        if beyond(r["crossing_m2"], r["area_m2"])
    ]
    outside = [
        {"code": r["code"], "outside_m2": round(r["outside_m2"], 2)}
        for r in rows
        if beyond(r["outside_m2"], r["area_m2"])
    ]
    overlaps = [{**o, "codes": [codes.get(i, str(i)) for i in o["ids"]]} for o in state.get("overlaps", [])]
    jur = state.get("jurisdiction") or {}
    ratio = state["covered_m2"] / jur["area_m2"] if jur.get("area_m2") else None
    cases = np.array([r["cases"] for r in rows], dtype=float)
    blocking = []
    if overlaps:
        blocking.append(f"{len(overlaps)} overlap(s) between grids")
    if crossings:
        blocking.append(f"{len(crossings)} grid(s) cross their community border")
    return {
        "grids": len(rows),
        "coverage": {"ratio": None if ratio is None else round(ratio, 6), **jur, "covered_m2": state.get("covered_m2")},
        "gaps": {
            "count": state.get("gap_count", 0),
            "area_m2": state.get("gap_m2", 0.0),
            "items": state.get("gaps", []),
        },
        "overlaps": {
            "count": len(overlaps),
            "area_m2": round(sum(o["area_m2"] for o in overlaps), 2),
            "items": overlaps,
        },
        "crossings": {"count": len(crossings), "items": crossings},
        "outside_jurisdiction": {"count": len(outside), "items": outside},
        "diameter": {
            "max_m": round(max((r["diameter_m"] or 0.0) for r in rows), 1) if rows else None,
            "caps_m": CAPS_M,
            "over_cap": over_cap,
        },
        "size": {"area": _balance(np.array([r["area_m2"] or 0.0 for r in rows])), "tiers": _tiers(rows)},
        "workload": {"cases": int(cases.sum()), **(_balance(cases) if cases.sum() > 0 else {"cv": None})},
        "contiguity": {"split_grids": [r["code"] for r in rows if r["parts"] > 1]},
        "blocking": blocking,
    }
