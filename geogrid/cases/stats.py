"""Indicators (考核指标) per period and per grid, community, street or unit, computed in one SQL pass.

For a window [start, end) cut into buckets (day, week, month in local time, or the whole window):

- 受理 accepted: cases whose accept happened in the bucket.
- 立案 filed: cases filed in the bucket.
- 应结案 due: cases whose clock was started (dispatched), not closed as ``error`` and not currently parked, whose
  *due moment* falls in the bucket. The due moment is min(deadline, close time): a case is owed either when its
  deadline (including approved extensions) passes, or when it was closed earlier. Each case is due in one bucket only.
- 结案 closed: due cases closed before the end of their bucket (late closures inside the bucket count; a case
  closed after the bucket in which its deadline fell stays due-but-not-closed there).
- 按期结案 closed on time: due cases closed at or before their deadline.
- 结案率 = 结案 / 应结案; 按期结案率 = 按期结案 / 应结案.
- 返工率 = closed cases reworked at least once / 结案.
- 延期率 = due cases with at least one approved extension / 应结案.
- mean time to close: mean wall-clock hours from first dispatch to close over the 结案 cases.
- 当场处置 on_spot: cases a collector reported and closed on the spot, by closing time; they were never dispatched,
  so they are outside 应结案 and every rate above, and counted here apart.
Rates are null when their denominator is zero. Grouping uses the case's current grid/community/street/unit, or the
tier of its grid (from the routing result kept on the case). Every counted moment comes after the case's creation,
so only cases created before the window's end are read: the monthly partitions of later months are pruned.
``area`` restricts to one admin area's cases (a district or street centre's view).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geogrid.store.models import AdminArea, Unit

PERIODS = ("day", "week", "month", "all")
GROUPS = {
    "none": "NULL::text",
    "grid": "grid_code",
    "community": "community_id::text",
    "street": "street_id::text",
    "unit": "unit_id::text",
    "tier": "route -> 'grids' -> (route ->> 'layer') ->> 'tier'",
}
AREA_COLUMNS = {"district": "district_id", "street": "street_id", "community": "community_id"}
LABELS = {
    "accepted": "受理",
    "filed": "立案",
    "due": "应结案",
    "closed": "结案",
    "closed_on_time": "按期结案",
    "close_rate": "结案率",
    "on_time_rate": "按期结案率",
    "rework_rate": "返工率",
    "extension_rate": "延期率",
    "mean_hours_to_close": "平均结案时长(小时)",
    "on_spot": "当场处置",
}


def _sql(period: str, group: str, area_level: str | None = None) -> str:
    if period == "all":
        bucket = "CAST(:s_local AS timestamp)"
        bucket_end = "CAST(:e_local AS timestamp)"
    else:
        bucket = f"date_trunc('{period}', {{ts}} AT TIME ZONE :tz)"
        bucket_end = f"LEAST(date_trunc('{period}', {{ts}} AT TIME ZONE :tz) + interval '1 {period}', :e_local)"
    b = bucket.format
    return f"""
WITH c AS (
  SELECT {GROUPS[group]} AS grp, accepted_at, filed_at, due_at, closed_at, close_type, status,
         rework_count, extension_count, first_dispatched_at, on_spot,
         LEAST(due_at, COALESCE(closed_at, due_at)) AS due_moment
  FROM case_report
  WHERE created_at < :e {f"AND {AREA_COLUMNS[area_level]} = :area_id" if area_level else ""}
), d AS (
  SELECT grp, {b(ts="due_moment")} AS b,
         closed_at IS NOT NULL AND (closed_at AT TIME ZONE :tz) < {bucket_end.format(ts="due_moment")} AS closed,
         closed_at IS NOT NULL AND closed_at <= due_at AS on_time,
         rework_count, extension_count,
         EXTRACT(EPOCH FROM closed_at - first_dispatched_at) / 3600.0 AS hours
  FROM c
  WHERE due_at IS NOT NULL AND close_type IS DISTINCT FROM 'error' AND status <> 'parked'
    AND due_moment >= :s AND due_moment < :e
), m AS (
  SELECT grp, {b(ts="accepted_at")} AS b, 1 AS acc, 0 AS fil, 0 AS due, 0 AS clo, 0 AS ont, 0 AS rew, 0 AS ext,
         NULL::float AS hours, 0 AS spot
  FROM c WHERE accepted_at >= :s AND accepted_at < :e AND NOT on_spot
  UNION ALL
  SELECT grp, {b(ts="filed_at")}, 0, 1, 0, 0, 0, 0, 0, NULL, 0 FROM c
  WHERE filed_at >= :s AND filed_at < :e AND NOT on_spot
  UNION ALL
  SELECT grp, b, 0, 0, 1, closed::int, on_time::int, (closed AND rework_count > 0)::int,
         (extension_count > 0)::int, CASE WHEN closed THEN hours END, 0
  FROM d
  UNION ALL
  SELECT grp, {b(ts="closed_at")}, 0, 0, 0, 0, 0, 0, 0, NULL, 1 FROM c
  WHERE on_spot AND closed_at >= :s AND closed_at < :e
)
SELECT grp, b, sum(acc) AS accepted, sum(fil) AS filed, sum(due) AS due, sum(clo) AS closed,
       sum(ont) AS closed_on_time, sum(rew) AS reworked, sum(ext) AS extended, avg(hours) AS mean_hours,
       sum(spot) AS on_spot
FROM m GROUP BY grp, b ORDER BY b, grp NULLS FIRST
"""


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _labels(session: Session, group: str, keys: set[str]) -> dict[str, dict]:
    if group not in ("community", "street", "unit"):
        return {}
    ids = [int(k) for k in keys if k is not None]
    if group in ("community", "street") and ids:
        rows = session.execute(select(AdminArea.id, AdminArea.code, AdminArea.name).where(AdminArea.id.in_(ids)))
    elif group == "unit" and ids:
        rows = session.execute(select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(ids)))
    else:
        return {}
    return {str(i): {"id": i, "code": code, "name": name} for i, code, name in rows}


def indicators(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    period: str = "all",
    group_by: str = "none",
    tz: str,
    area: tuple[str, int] | None = None,
) -> list[dict]:
    """One row per (bucket, group) with every indicator; see the module docstring for definitions."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {tuple(GROUPS)}")
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    params = {
        "s": start,
        "e": end,
        "tz": tz,
        "s_local": start.astimezone(zone).replace(tzinfo=None),
        "e_local": end.astimezone(zone).replace(tzinfo=None),
    }
    if area is not None:
        params["area_id"] = area[1]
    rows = session.execute(text(_sql(period, group_by, area and area[0])), params).mappings().all()
    names = _labels(session, group_by, {r["grp"] for r in rows})
    out = []
    for r in rows:
        due, closed = int(r["due"]), int(r["closed"])
        group = None if group_by == "none" else (r["grp"] if group_by in ("grid", "tier") else names.get(r["grp"]))
        if group is None and group_by not in ("none", "grid", "tier") and r["grp"] is not None:
            group = {"id": int(r["grp"])}
        out.append(
            {
                "period_start": r["b"].isoformat(),
                "group": group,
                "accepted": int(r["accepted"]),
                "filed": int(r["filed"]),
                "due": due,
                "closed": closed,
                "closed_on_time": int(r["closed_on_time"]),
                "close_rate": _ratio(closed, due),
                "on_time_rate": _ratio(int(r["closed_on_time"]), due),
                "rework_rate": _ratio(int(r["reworked"]), closed),
                "extension_rate": _ratio(int(r["extended"]), due),
                "mean_hours_to_close": None if r["mean_hours"] is None else round(float(r["mean_hours"]), 4),
                "on_spot": int(r["on_spot"]),
            }
        )
    return out
