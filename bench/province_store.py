"""A province-sized store for load tests, generated inside PostgreSQL (set-based INSERT … SELECT, no Python loop).

Layout: a square lattice of ``n`` grids of 0.001° (~100 m) south-west of (114.0, 30.3); communities are blocks of
20 × 20 grids, streets blocks of 5 × 5 communities, one district over all. Every admin area has a territorial unit,
the routing catalogue of the case tests is imported, and one published plan of layer ``responsibility`` holds the
grids. 500k grids take ~1 min on 2 cores. Used by ``bench/province_load.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import text

from geogrid.routing.catalogue import import_catalogue
from geogrid.store.accounts import create_account
from geogrid.store.db import get_engine, init_store, session_scope

X0, Y0, STEP = 114.0, 30.3, 0.001
COMMUNITY = 20  # grids per community side
STREET = 5  # communities per street side
DISTRICT = "420199"
CATALOGUE = {
    "units": [{"code": "dept-cgzf", "name": "城市综合执法大队", "kind": "department"}],
    "rules": [
        {"category": "event:01", "name": "市容环境", "territorial_level": "community"},
        {"category": "event:0102", "name": "暴露垃圾", "territorial_level": "community"},
        {"category": "component:01", "name": "公用设施", "owner_unit": "dept-cgzf"},
    ],
    "time_limits": [{"category": "event:0102", "urgency": "normal", "value": 4, "unit": "hours"}],
}

_AREAS = """
INSERT INTO admin_area (level, code, name, geom)
SELECT 'district', :district, '省级压测区',
       ST_Multi(ST_MakeEnvelope(:x0, :y0, :x0 + :side * :step, :y0 + :side * :step, 4490));
INSERT INTO admin_area (level, code, name, parent_id, geom)
SELECT 'street', :district || lpad((si * :nst + sj + 1)::text, 3, '0'), '街道' || (si * :nst + sj + 1),
       (SELECT id FROM admin_area WHERE code = :district),
       ST_Multi(ST_MakeEnvelope(:x0 + si * :sw * :step, :y0 + sj * :sw * :step,
                                :x0 + (si + 1) * :sw * :step, :y0 + (sj + 1) * :sw * :step, 4490))
FROM generate_series(0, :nst - 1) si, generate_series(0, :nst - 1) sj;
INSERT INTO admin_area (level, code, name, parent_id, geom)
SELECT 'community', s.code || lpad(((ci % :st) * :st + cj % :st + 1)::text, 3, '0'), '社区' || ci || '-' || cj, s.id,
       ST_Multi(ST_MakeEnvelope(:x0 + ci * :cw * :step, :y0 + cj * :cw * :step,
                                :x0 + (ci + 1) * :cw * :step, :y0 + (cj + 1) * :cw * :step, 4490))
FROM generate_series(0, :nco - 1) ci CROSS JOIN generate_series(0, :nco - 1) cj
JOIN admin_area s ON s.code = :district || lpad(((ci / :st) * :nst + cj / :st + 1)::text, 3, '0');
INSERT INTO unit (code, name, kind, admin_area_id)
SELECT 'u-' || code, name || '工作站', 'territorial', id FROM admin_area;
"""

_GRIDS = """
INSERT INTO grid (plan_id, code, name, tier, community_id, geom)
SELECT :plan, c.code || lpad(((i % :cw) * :cw + j % :cw + 1)::text, 3, '0'), NULL, 'B', c.id,
       ST_Multi(ST_MakeEnvelope(:x0 + i * :step, :y0 + j * :step, :x0 + (i + 1) * :step, :y0 + (j + 1) * :step, 4490))
FROM generate_series(0, :side - 1) i CROSS JOIN generate_series(0, :side - 1) j
JOIN admin_area c ON c.level = 'community' AND c.code = :district
     || lpad((((i / :cw) / :st) * :nst + (j / :cw) / :st + 1)::text, 3, '0')
     || lpad((((i / :cw) % :st) * :st + (j / :cw) % :st + 1)::text, 3, '0')
WHERE i * :side + j < :n
"""


@dataclass(frozen=True)
class Province:
    url: str
    grids: int
    side: int
    reporter_key: str

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the grids."""
        return X0, Y0, X0 + self.side * STEP, Y0 + self.side * STEP


def build_province(url: str, n: int, progress=print) -> Province:
    """Create and fill the store at ``url`` with ``n`` grids (the database must not exist yet or be empty)."""
    init_store(url)
    side = math.ceil(math.sqrt(n))
    nco = math.ceil(side / COMMUNITY)
    nst = math.ceil(nco / STREET)
    p = {"x0": X0, "y0": Y0, "step": STEP, "side": side, "n": n, "district": DISTRICT, "cw": COMMUNITY, "st": STREET,
         "sw": COMMUNITY * STREET, "nco": nco, "nst": nst}  # fmt: skip
    t0 = time.monotonic()
    with session_scope(url) as session:
        for statement in filter(str.strip, _AREAS.split(";")):
            session.execute(text(statement), p)
        layer = session.execute(text("INSERT INTO grid_layer (name, title) VALUES ('responsibility', '责任网格') "
                                     "RETURNING id")).scalar()  # fmt: skip
        plan = session.execute(
            text("INSERT INTO plan (name, layer_id, version, status, valid_from) "
                 "VALUES ('province-v1', :l, 1, 'published', now()) RETURNING id"), {"l": layer},
        ).scalar()  # fmt: skip
        progress(f"[store] {nco * nco} communities, {nst * nst} streets; inserting {n:,} grids …")
        session.execute(text(_GRIDS), {**p, "plan": plan})
        import_catalogue(session, CATALOGUE, "bench")
        _calendar(session)
        _, key = create_account(session, "bench-reporter", "reporter")
    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    progress(f"[store] {n:,} grids written and analysed in {time.monotonic() - t0:.0f} s")
    return Province(url, n, side, key)


def _calendar(session) -> None:
    """Declare last, this and next year plain working weeks, so deadlines compute whatever the package knows."""
    from datetime import date

    from sqlalchemy.dialects.postgresql import insert

    from geogrid.cases.models import CalendarYear

    years = [{"year": date.today().year + k, "source": "bench: plain Monday-Friday week"} for k in (-1, 0, 1)]
    session.execute(insert(CalendarYear).values(years).on_conflict_do_nothing(index_elements=["year"]))
