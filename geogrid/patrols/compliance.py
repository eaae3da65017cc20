"""Weekly patrol compliance per grid: patrols that visited the grid in a local ISO week (Monday 00:00 to Monday
00:00), who walked them, and whether the grid reached the weekly minimum (default 3, seeds/001). Every grid of the
layer's published plan is listed, visited or not, because an unvisited grid is the finding.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

WEEKLY = text("""
WITH g AS (
  SELECT g.code, g.name, g.tier FROM grid g JOIN plan p ON p.id = g.plan_id AND p.status = 'published'
  JOIN grid_layer l ON l.id = p.layer_id WHERE l.name = :layer
), v AS (
  SELECT pg.grid_code, count(DISTINCT pg.patrol_id) AS patrols,
         array_agg(DISTINCT COALESCE(pe.name, a.name)) FILTER (WHERE COALESCE(pe.name, a.name) IS NOT NULL) AS people
  FROM patrol_grid pg JOIN patrol pa ON pa.id = pg.patrol_id
  JOIN grid_layer l ON l.id = pg.layer_id AND l.name = :layer
  LEFT JOIN person pe ON pe.id = pa.person_id LEFT JOIN account a ON a.id = pa.account_id
  WHERE pa.started_at >= :s AND pa.started_at < :e
  GROUP BY pg.grid_code
)
SELECT g.code, g.name, g.tier, COALESCE(v.patrols, 0) AS patrols, COALESCE(v.people, '{}') AS people
FROM g LEFT JOIN v ON v.grid_code = g.code ORDER BY g.code
""")


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def parse_week(value: str | None, today: date) -> date:
    """``2026-W49`` or any date of the week (``2026-12-03``); None: this week. Raises ValueError."""
    if not value:
        return week_start(today)
    value = value.strip()
    if "-W" in value.upper():
        year, week = value.upper().split("-W", 1)
        return date.fromisocalendar(int(year), int(week), 1)
    return week_start(date.fromisoformat(value))


def weekly_compliance(session: Session, layer: str, monday: date, tz: str, required: int) -> dict:
    """Per grid: patrols in the week, the people who walked them, compliant or not; with totals."""
    zone = ZoneInfo(tz)
    start = datetime.combine(monday, time(0), zone)
    end = start + timedelta(days=7)
    rows = session.execute(WEEKLY, {"layer": layer, "s": start, "e": end}).mappings().all()
    grids = [
        {"grid_code": r["code"], "name": r["name"], "tier": r["tier"], "patrols": int(r["patrols"]),
         "people": sorted(r["people"]), "compliant": int(r["patrols"]) >= required}
        for r in rows
    ]  # fmt: skip
    compliant = sum(g["compliant"] for g in grids)
    return {"layer": layer, "week": f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}",
            "from": start.isoformat(), "to": end.isoformat(), "required": required, "grids": grids,
            "compliant": compliant, "total": len(grids),
            "compliance_rate": round(compliant / len(grids), 6) if grids else None}  # fmt: skip
