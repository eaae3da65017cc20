"""The validation report of one plan: read the plan and the admin areas from the store, run ``checks`` in one
local metric CRS, and describe every problem with codes, square metres and a lon/lat point to zoom to.

The jurisdiction is the union of the district areas the plan touches (falling back to streets, then communities,
when no district is loaded); without any admin area, gaps are the holes the grids enclose and coverage is unknown.
Lists are sorted largest first and capped at ``MAX_LISTED`` entries; counts and totals always cover everything.
"""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.crs import metric_crs_for
from geogrid.store.models import Plan
from geogrid.validation import checks
from geogrid.validation.checks import Tolerances

MAX_LISTED = 200

_GRIDS = text(
    "SELECT id, code, community_id, ST_IsValid(geom) AS valid, ST_IsValidReason(geom) AS reason, "
    "ST_AsBinary(geom) AS wkb FROM grid WHERE plan_id = :plan ORDER BY code"
)
_ADMIN_NEAR_PLAN = text(
    "SELECT a.id, a.code, a.level, ST_AsBinary(a.geom) AS wkb FROM admin_area a WHERE a.level = :level AND EXISTS "
    "(SELECT 1 FROM grid g WHERE g.plan_id = :plan AND ST_Intersects(g.geom, a.geom))"
)
_ADMIN_BY_ID = text("SELECT id, code, ST_AsBinary(geom) AS wkb FROM admin_area WHERE id = ANY(:ids)")


def _frame(session: Session, query, **params) -> pd.DataFrame:
    result = session.execute(query, params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _metric(wkb: pd.Series, crs: CRS) -> np.ndarray:
    geoms = gpd.GeoSeries(shapely.from_wkb(wkb.map(bytes).to_numpy()), crs=STORE_SRID)
    return np.asarray(geoms.to_crs(crs).values, dtype=object)


class _Points:
    """Metric points back to rounded lon/lat pairs for the report."""

    def __init__(self, crs: CRS) -> None:
        self._tr = Transformer.from_crs(crs, CRS.from_epsg(STORE_SRID), always_xy=True)

    def __call__(self, points: np.ndarray) -> list[list[float]]:
        if len(points) == 0:
            return []
        lon, lat = self._tr.transform(shapely.get_x(points), shapely.get_y(points))
        return np.round(np.column_stack([lon, lat]), 7).tolist()


def jurisdiction(session: Session, plan_id: int, crs: CRS):
    """Union of the admin areas of the highest level loaded that the plan's grids touch (in ``crs``), and the level."""
    for level in ("district", "street", "community"):
        rows = _frame(session, _ADMIN_NEAR_PLAN, level=level, plan=plan_id)
        if len(rows):
            return shapely.union_all(_metric(rows["wkb"], crs)), level
    return None, None


def _invalid(grids: pd.DataFrame, plan: Plan) -> list[dict]:
    now = [
        {"code": c, "reason": r, "repaired": False}
        for c, r in zip(grids["code"][~grids["valid"]], grids["reason"][~grids["valid"]], strict=True)
    ]
    imported = ((plan.report or {}).get("import") or {}).get("repaired") or []
    return now + [{**item, "repaired": True} for item in imported]


def _overlap_items(grids: pd.DataFrame, pieces: checks.Pieces, points: _Points) -> list[dict]:
    codes = grids["code"].to_numpy()
    loc = points(pieces.points[:MAX_LISTED])
    return [
        {"codes": [codes[a], codes[b]], "area_m2": round(float(s), 2), "location": p}
        for a, b, s, p in zip(pieces.left, pieces.right, pieces.area, loc, strict=False)
    ]


def _gap_items(pieces: checks.Pieces, points: _Points) -> list[dict]:
    loc = points(pieces.points[:MAX_LISTED])
    return [{"area_m2": round(float(s), 2), "location": p} for s, p in zip(pieces.area, loc, strict=False)]


def _outside_items(codes, rest, area, beyond, share_of, points: _Points, extra=None) -> list[dict]:
    idx = np.flatnonzero(beyond)
    idx = idx[np.argsort(-area[idx], kind="stable")][:MAX_LISTED]
    loc = points(checks.main_point(rest[idx]))
    items = []
    for k, i in enumerate(idx):
        item = {"code": codes[i], "outside_m2": round(float(area[i]), 2), "outside_share": round(float(share_of[i]), 5)}
        item.update(extra(i) if extra else {})
        item["location"] = loc[k]
        items.append(item)
    return items


def _community_containers(session: Session, grids: pd.DataFrame, crs: CRS) -> tuple[np.ndarray, dict]:
    """Each grid's own community polygon (None when it has none) and the community codes by id."""
    ids = sorted({int(i) for i in grids["community_id"].dropna()})
    comm = _frame(session, _ADMIN_BY_ID, ids=ids)
    if comm.empty:
        return np.full(len(grids), None, dtype=object), {}
    geoms = pd.Series(_metric(comm["wkb"], crs), index=comm["id"].to_numpy())
    containers = np.array(grids["community_id"].map(geoms).to_numpy(dtype=object), dtype=object, copy=True)
    containers[pd.isna(grids["community_id"]).to_numpy()] = None
    return containers, dict(zip(comm["id"], comm["code"], strict=True))


def _coverage(cover, jurisdiction, level: str) -> dict:
    """How much of the jurisdiction the grids cover (1.0 = every square metre)."""
    total = float(shapely.area(jurisdiction))
    covered = float(shapely.area(shapely.intersection(cover, jurisdiction)))
    return {
        "level": level,
        "jurisdiction_m2": round(total, 2),
        "covered_m2": round(covered, 2),
        "ratio": round(covered / total, 6),
    }


def _blocking(summary: dict) -> list[str]:
    reasons = []
    if summary["overlaps"]:
        reasons.append(f"{summary['overlaps']} overlap(s) between grids, {summary['overlap_m2']:.1f} m² in total")
    if summary["crossings"]:
        reasons.append(f"{summary['crossings']} grid(s) cross their community border")
    return reasons


def build_report(session: Session, plan: Plan, tol: Tolerances | None = None) -> dict:
    """Compute the validation report of ``plan`` (not stored; see ``validate_plan``)."""
    tol = tol or Tolerances()
    grids = _frame(session, _GRIDS, plan=plan.id)
    head = {"plan": plan.name, "layer": plan.layer.name, "version": plan.version, "status": plan.status}
    head |= {"validated_at": datetime.now(UTC).isoformat(timespec="seconds"), "grids": len(grids)}
    head["tolerances"] = tol.to_dict()
    if grids.empty:
        return head | {"error": "the plan has no grids", "blocking": ["the plan has no grids"]}
    raw = gpd.GeoSeries(shapely.from_wkb(grids["wkb"].map(bytes).to_numpy()), crs=STORE_SRID)
    crs = metric_crs_for(gpd.GeoDataFrame(geometry=raw))
    g = np.array(raw.to_crs(crs).values, dtype=object)
    broken = ~shapely.is_valid(g)  # reprojection can (rarely) invalidate a valid ring
    g[broken] = shapely.make_valid(g[broken])
    points = _Points(crs)
    codes = grids["code"].to_numpy()
    area = shapely.area(g)

    over = checks.overlaps(g, tol.overlap_min_m2)
    jur, jur_level = jurisdiction(session, plan.id, crs)
    cover = shapely.union_all(g)
    gap = checks.gaps(cover, jur, tol.gap_min_m2)
    containers, comm_codes = _community_containers(session, grids, crs)
    c_rest, c_area, c_beyond = checks.outside(g, containers, tol)
    cid = grids["community_id"].to_numpy()
    crossings = _outside_items(
        codes, c_rest, c_area, c_beyond, c_area / area, points, lambda i: {"community": comm_codes.get(cid[i])}
    )
    if jur is not None:
        j_rest, j_area, j_beyond = checks.outside(g, np.full(len(g), jur, dtype=object), tol)
        outside = _outside_items(codes, j_rest, j_area, j_beyond, j_area / area, points)
        coverage = _coverage(cover, jur, jur_level)
    else:
        j_beyond, outside, coverage = np.zeros(len(g), bool), [], None
    no_community = codes[pd.isna(grids["community_id"]).to_numpy()].tolist() if _has_communities(session) else []
    invalid = _invalid(grids, plan)
    summary = {
        "invalid": len(invalid),
        "overlaps": len(over.area),
        "overlap_m2": round(float(over.area.sum()), 2),
        "gaps": len(gap.area),
        "gap_m2": round(float(gap.area.sum()), 2),
        "crossings": int(c_beyond.sum()),
        "outside_jurisdiction": int(j_beyond.sum()),
        "no_community": len(no_community),
        "coverage_ratio": coverage["ratio"] if coverage else None,
    }
    return head | {
        "metric_crs": crs.to_string(),
        "summary": summary,
        "blocking": _blocking(summary),
        "invalid": invalid,
        "overlaps": _overlap_items(grids, over, points),
        "gaps": _gap_items(gap, points),
        "crossings": crossings,
        "outside_jurisdiction": outside,
        "no_community": no_community[:MAX_LISTED],
        "coverage": coverage,
    }


def _has_communities(session: Session) -> bool:
    return session.execute(text("SELECT EXISTS (SELECT 1 FROM admin_area WHERE level = 'community')")).scalar_one()


def find_plan(session: Session, name: str, *, lock: bool = False) -> Plan:
    """The plan called ``name``; ``ValueError`` listing what exists when there is none."""
    query = select(Plan).where(Plan.name == name)
    plan = session.scalar(query.with_for_update() if lock else query)
    if plan is None:
        known = session.scalars(select(Plan.name).order_by(Plan.name).limit(20)).all()
        raise ValueError(f"unknown plan {name!r}; plans in the store: {', '.join(known) or '(none)'}")
    return plan


def validate_plan(session: Session, name: str, tol: Tolerances | None = None) -> dict:
    """Validate the plan called ``name`` and keep the report on ``plan.report['validation']``."""
    plan = find_plan(session, name)
    report = build_report(session, plan, tol)
    plan.report = {**(plan.report or {}), "validation": report}
    session.flush()
    return report
