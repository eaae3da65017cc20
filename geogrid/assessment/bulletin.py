"""The monthly bulletin (月度通报, seeds/004: 街道网格中心每月以简报形式…通报工作情况) and its ranking (红黑榜).

Everything in it is computed by the modules that define each figure (``cases.stats`` for 受理…按期结案率,
``assessment.figures`` for discovery, satisfaction and people, ``patrols.compliance`` for patrols), over the local
calendar month. The ranking orders the units that had at least ``min_due`` cases due by 按期结案率, then 结案率, then
mean satisfaction (unrated last), then more cases due, then unit code; the red list (红榜) is the top ``size``, the
black list (黑榜) the bottom ``size`` worst first, with ``size`` = min(3, ranked units // 2) so no unit is on both.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.assessment.figures import CHANNEL_LABELS, discovery, per_person, satisfaction
from geogrid.cases.stats import LABELS, indicators
from geogrid.patrols.compliance import weekly_compliance
from geogrid.store.models import GridLayer

RANK_SIZE = 3


def month_window(month: str, tz: str) -> tuple[date, datetime, datetime]:
    """``2026-03`` → (first day, local start, local end of the month). Raises ValueError."""
    year, mon = (int(part) for part in month.split("-"))
    first = date(year, mon, 1)
    following = date(year + (mon == 12), mon % 12 + 1, 1)
    zone = ZoneInfo(tz)
    return first, datetime.combine(first, time(0), zone), datetime.combine(following, time(0), zone)


def _sort_key(row: dict) -> tuple:
    def desc(value):
        return -(value if value is not None else -1.0)

    return (desc(row["on_time_rate"]), desc(row["close_rate"]), desc(row["satisfaction"]), -row["due"],
            (row["group"] or {}).get("code") or "")  # fmt: skip


def ranking(units: list[dict], min_due: int = 1) -> dict:
    ranked = sorted((u for u in units if u["due"] >= min_due), key=_sort_key)
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    size = min(RANK_SIZE, len(ranked) // 2)
    return {"red": ranked[:size], "black": list(reversed(ranked[len(ranked) - size :])) if size else [],
            "ranked": len(ranked), "rule": __doc__.split("The ranking ", 1)[1].strip()}  # fmt: skip


def _patrols(session: Session, first: date, end: datetime, tz: str, required: int, layer: str) -> dict:
    """Per grid: weeks (whose Monday is in the month) in which it had the required patrols."""
    if session.scalar(select(GridLayer.id).where(GridLayer.name == layer)) is None:
        return {"layer": layer, "weeks": [], "grids": [], "compliance_rate": None}
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while datetime.combine(monday, time(0), ZoneInfo(tz)) < end:
        weeks.append(weekly_compliance(session, layer, monday, tz, required))
        monday += timedelta(days=7)
    grids: dict[str, dict] = {}
    for week in weeks:
        for g in week["grids"]:
            entry = grids.setdefault(g["grid_code"], {"grid_code": g["grid_code"], "tier": g["tier"],
                                                      "patrols": 0, "compliant_weeks": 0})  # fmt: skip
            entry["patrols"] += g["patrols"]
            entry["compliant_weeks"] += g["compliant"]
    cells = len(weeks) * len(grids)
    done = sum(g["compliant_weeks"] for g in grids.values())
    return {"layer": layer, "required_per_week": required, "weeks": [w["week"] for w in weeks],
            "grids": sorted(grids.values(), key=lambda g: g["grid_code"]),
            "compliance_rate": round(done / cells, 6) if cells else None}  # fmt: skip


def bulletin(
    session: Session,
    month: str,
    tz: str,
    *,
    area: tuple[str, int] | None = None,
    patrol_min: int = 3,
    layer: str = "responsibility",
) -> dict:
    """The month's figures, per unit, per tier, per person, patrols and the ranking."""
    first, start, end = month_window(month, tz)
    kwargs = {"tz": tz, "area": area}
    totals = indicators(session, start, end, **kwargs)
    rated = satisfaction(session, start, end, area)
    units = indicators(session, start, end, group_by="unit", **kwargs)
    for row in units:
        row["satisfaction"] = rated["per_unit"].get((row["group"] or {}).get("id"))
    del rated["per_unit"]
    empty = {key: 0 for key in ("accepted", "filed", "due", "closed", "closed_on_time", "on_spot")}
    return {
        "month": month,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": tz,
        "area": None if area is None else {"level": area[0], "id": area[1]},
        "labels": {**LABELS, "discovery_rate": "发现率", "satisfaction": "满意度", **CHANNEL_LABELS},
        "totals": totals[0] if totals else empty,
        "discovery": discovery(session, start, end, area),
        "satisfaction": rated,
        "units": units,
        "tiers": indicators(session, start, end, group_by="tier", **kwargs),
        "people": per_person(session, start, end, area),
        "patrols": _patrols(session, first, end, tz, patrol_min, layer),
        "ranking": ranking(units),
    }
