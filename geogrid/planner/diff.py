"""Compare two plans: which grids were added, removed, reshaped, recoded or left unchanged, and the lineage.

Lineage is every pair (old grid, new grid) sharing land, with the shared area and its share of each: the rows of
one old grid add up to 1 when the new plan covers all of it. Areas are planar in the local metric CRS of the old
plan. "Unchanged" means both shares of the same-code pair are at least ``SAME_SHARE`` (a copy is unchanged; a grid
rebuilt from its blocks, vertex for vertex the same land, too).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.planner.drafts import get_plan, plan_srid
from geogrid.planner.geometry import to_metric
from geogrid.store.models import Plan

SAME_SHARE = 0.9999
MIN_SHARED_M2 = 0.01
"""Pairs sharing less than this are neighbours whose borders differ by floating-point noise, not lineage."""
LINEAGE_FIELDS = ("from_code", "to_code", "shared_area_m2", "share_of_from", "share_of_to")

_GRIDS = text("SELECT code, name, tier, ST_AsBinary(geom) AS wkb FROM grid WHERE plan_id = :p ORDER BY code")


def _grids(session: Session, plan_id: int) -> tuple[list, np.ndarray]:
    rows = session.execute(_GRIDS, {"p": plan_id}).all()
    return rows, np.asarray([bytes(r.wkb) for r in rows], dtype=object)


def lineage(session: Session, old: Plan, new: Plan) -> tuple[list[dict], list, list]:
    """Lineage rows (largest shared area first per old grid), and the grid rows of both plans."""
    a_rows, a_wkb = _grids(session, old.id)
    b_rows, b_wkb = _grids(session, new.id)
    if not a_rows or not b_rows:
        return [], a_rows, b_rows
    srid = plan_srid(session, old.id)
    a = to_metric(shapely.from_wkb(a_wkb), srid)
    b = to_metric(shapely.from_wkb(b_wkb), srid)
    for g in (a, b):
        bad = ~shapely.is_valid(g)
        g[bad] = shapely.make_valid(g[bad])
    ai, bi = shapely.STRtree(b).query(a, predicate="intersects")
    same = a_wkb[ai] == b_wkb[bi]  # an unchanged grid: no overlay needed
    shared = np.where(same, shapely.area(a[ai]), 0.0)
    shared[~same] = shapely.area(shapely.intersection(a[ai[~same]], b[bi[~same]]))
    area_a, area_b = shapely.area(a), shapely.area(b)
    keep = shared >= MIN_SHARED_M2
    ai, bi, shared = ai[keep], bi[keep], shared[keep]
    order = np.lexsort((-shared, ai))
    rows = [
        {
            "from_code": a_rows[i].code,
            "to_code": b_rows[j].code,
            "shared_area_m2": round(float(s), 2),
            "share_of_from": round(float(s / area_a[i]), 6) if area_a[i] > 0 else 0.0,
            "share_of_to": round(float(s / area_b[j]), 6) if area_b[j] > 0 else 0.0,
        }
        for i, j, s in zip(ai[order], bi[order], shared[order], strict=True)
    ]
    return rows, a_rows, b_rows


def _same(row: dict) -> bool:
    return row["share_of_from"] >= SAME_SHARE and row["share_of_to"] >= SAME_SHARE


def classify(rows: list[dict], a_rows: list, b_rows: list) -> dict:
    """Grids added, removed, reshaped, recoded, unchanged (and attribute changes of unchanged ones).

    Twins first: an old and a new grid holding the same land both ways are ``unchanged`` when their codes agree,
    ``recoded`` otherwise (a renumbering may give an old code to other land). The other grids are compared by code.
    """
    old = {r.code: r for r in a_rows}
    new = {r.code: r for r in b_rows}
    twins = [(r["from_code"], r["to_code"]) for r in rows if _same(r)]
    out = {"added": [], "removed": [], "reshaped": [], "recoded": [], "unchanged": [], "attributes": []}
    for a, b in sorted(twins):
        if a != b:
            out["recoded"].append({"from": a, "to": b})
            continue
        out["unchanged"].append(a)
        changes = {k: [getattr(old[a], k), getattr(new[a], k)] for k in ("name", "tier")}
        changes = {k: v for k, v in changes.items() if v[0] != v[1]}
        if changes:
            out["attributes"].append({"code": a, **changes})
    rest_old = old.keys() - {a for a, _ in twins}
    rest_new = new.keys() - {b for _, b in twins}
    kept = {r["from_code"]: r for r in rows if r["from_code"] == r["to_code"]}
    for code in sorted(rest_old & rest_new):
        r = kept.get(code)
        out["reshaped"].append(
            {"code": code, "kept_share": r["share_of_from"] if r else 0.0, "kept_m2": r["shared_area_m2"] if r else 0.0}
        )
    out["removed"] = sorted(rest_old - rest_new)
    out["added"] = sorted(rest_new - rest_old)
    return out


def diff(session: Session, a: str, b: str) -> dict:
    """The comparison of plan ``a`` (old) with plan ``b`` (new)."""
    old, new = get_plan(session, a), get_plan(session, b)
    rows, a_rows, b_rows = lineage(session, old, new)
    kinds = classify(rows, a_rows, b_rows)
    head = {
        p.name: {"name": p.name, "version": p.version, "status": p.status, "grids": n}
        for p, n in ((old, len(a_rows)), (new, len(b_rows)))
    }
    return {
        "a": head[old.name],
        "b": head[new.name],
        "summary": {k: len(v) for k, v in kinds.items()},
        **kinds,
        "lineage": rows,
    }


def lineage_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LINEAGE_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
