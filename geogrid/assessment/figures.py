"""Assessment figures over a window [start, end), each defined once, each optionally restricted to one admin area.

- 发现率 discovery rate (seeds/003: 发现率达95%以上): of the valid cases created in the window (not rejected, not
  closed as ``error``), the share found by the grid itself, i.e. channels ``collector`` and ``video``, against
  ``public``, ``hotline`` and ``higher``. Counts per channel are given too.
- 满意度 satisfaction: ratings given in the window; count, mean (1–5) and the count per score; per unit by the case's
  (lead) unit.
- per person: for every account that reported, patrolled or handled on the spot in the window, its person's name
  when linked: reports (cases created), on-the-spot handlings, patrols started, distinct grids patrolled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.cases.stats import AREA_COLUMNS

PROACTIVE = ("collector", "video")
CHANNEL_LABELS = {"collector": "网格员上报", "video": "视频发现", "public": "群众举报", "hotline": "12345热线",
                  "higher": "上级交办"}  # fmt: skip


def _area(area: tuple[str, int] | None, alias: str = "") -> tuple[str, dict]:
    if area is None:
        return "", {}
    prefix = f"{alias}." if alias else ""
    return f" AND {prefix}{AREA_COLUMNS[area[0]]} = :area_id", {"area_id": area[1]}


def discovery(session: Session, start: datetime, end: datetime, area: tuple[str, int] | None = None) -> dict:
    where, params = _area(area)
    rows = session.execute(
        text(f"""SELECT channel, count(*) FROM case_report
                 WHERE created_at >= :s AND created_at < :e AND status <> 'rejected'
                   AND close_type IS DISTINCT FROM 'error'{where}
                 GROUP BY channel"""),
        {"s": start, "e": end, **params},
    ).all()
    by_channel = {channel: 0 for channel in CHANNEL_LABELS} | {c: int(n) for c, n in rows}
    total = sum(by_channel.values())
    found = sum(by_channel[c] for c in PROACTIVE)
    return {"by_channel": by_channel, "proactive": found, "total": total,
            "discovery_rate": round(found / total, 6) if total else None}  # fmt: skip


def satisfaction(session: Session, start: datetime, end: datetime, area: tuple[str, int] | None = None) -> dict:
    where, params = _area(area)
    rows = session.execute(
        text(f"""SELECT unit_id, satisfaction FROM case_report
                 WHERE satisfaction_at >= :s AND satisfaction_at < :e{where}"""),
        {"s": start, "e": end, **params},
    ).all()
    scores = [int(s) for _, s in rows]
    per_unit: dict[int, list[int]] = {}
    for unit_id, score in rows:
        per_unit.setdefault(unit_id, []).append(int(score))
    return {
        "count": len(scores),
        "mean": round(sum(scores) / len(scores), 4) if scores else None,
        "distribution": {str(k): scores.count(k) for k in range(1, 6)},
        "per_unit": {u: round(sum(v) / len(v), 4) for u, v in per_unit.items() if u is not None},
    }


PEOPLE = """
WITH r AS (
  SELECT reporter_account_id AS account_id, count(*) AS reports, count(*) FILTER (WHERE on_spot) AS on_spot
  FROM case_report WHERE created_at >= :s AND created_at < :e AND reporter_account_id IS NOT NULL{where}
  GROUP BY reporter_account_id
), p AS (
  SELECT pa.account_id, count(DISTINCT pa.id) AS patrols, count(DISTINCT pg.grid_code) AS grids
  FROM patrol pa LEFT JOIN patrol_grid pg ON pg.patrol_id = pa.id
  WHERE pa.started_at >= :s AND pa.started_at < :e AND pa.account_id IS NOT NULL
  GROUP BY pa.account_id
)
SELECT a.id, a.name AS account, a.role,
       (SELECT pe.name FROM person pe WHERE pe.account_id = a.id ORDER BY pe.id LIMIT 1) AS person,
       COALESCE(r.reports, 0) AS reports, COALESCE(r.on_spot, 0) AS on_spot,
       COALESCE(p.patrols, 0) AS patrols, COALESCE(p.grids, 0) AS grids_patrolled
FROM account a LEFT JOIN r ON r.account_id = a.id LEFT JOIN p ON p.account_id = a.id
WHERE r.account_id IS NOT NULL OR p.account_id IS NOT NULL
ORDER BY reports DESC, patrols DESC, a.name
"""


def per_person(session: Session, start: datetime, end: datetime, area: tuple[str, int] | None = None) -> list[dict]:
    where, params = _area(area)
    rows = session.execute(text(PEOPLE.format(where=where)), {"s": start, "e": end, **params}).mappings().all()
    return [
        {"account_id": r["id"], "account": r["account"], "role": r["role"], "person": r["person"],
         "reports": int(r["reports"]), "on_spot": int(r["on_spot"]), "patrols": int(r["patrols"]),
         "grids_patrolled": int(r["grids_patrolled"])}
        for r in rows
    ]  # fmt: skip
