"""Indicators on a seeded month of cases; the expected figures are computed here from the seeded timeline."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from geogrid.cases.models import Case
from geogrid.cases.workflow import Actor, apply
from geogrid.store.db import session_scope
from tests.cases.conftest import h

TZ = ZoneInfo("Asia/Shanghai")
OP, COL = Actor(None, "operator"), Actor(None, "collector")
MIN = timedelta(minutes=1)


@dataclass
class Plan:
    side: str  # "west" | "east"
    created: datetime
    fate: str  # rejected | accepted | open | parked | closed | error | special
    limit_h: int = 0
    extension: bool = False
    rework: bool = False
    close_frac: float = 0.0

    @property
    def accepted(self):
        return None if self.fate == "rejected" else self.created + 5 * MIN

    @property
    def filed(self):
        return None if self.fate in ("rejected", "accepted") else self.created + 10 * MIN

    @property
    def dispatched(self):
        return None if self.filed is None else self.created + 20 * MIN

    @property
    def due(self):
        if self.dispatched is None:
            return None
        return self.dispatched + timedelta(hours=self.limit_h + (24 if self.extension else 0))

    @property
    def closed(self):
        if self.fate not in ("closed", "error", "special"):
            return None
        return self.dispatched + timedelta(hours=self.limit_h * self.close_frac)


def make_plans(seed: int = 5) -> list[Plan]:
    rng = random.Random(seed)
    start = datetime(2026, 9, 24, tzinfo=TZ)
    plans = []
    for _ in range(48):
        created = start + timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
        fate = rng.choices(
            ["rejected", "accepted", "open", "parked", "closed", "error", "special"], [2, 2, 4, 2, 24, 2, 2]
        )[0]
        plans.append(
            Plan(
                side=rng.choice(["west", "east"]),
                created=created,
                fate=fate,
                limit_h=rng.choice([4, 24, 48, 72]),
                extension=fate in ("closed", "open") and rng.random() < 0.25,
                rework=fate == "closed" and rng.random() < 0.3,
                close_frac=rng.uniform(0.3, 1.8),
            )
        )
    return plans


def seed_cases(url: str, city, plans: list[Plan]) -> None:
    with session_scope(url) as session:
        for p in plans:
            comm = "420102001001" if p.side == "west" else "420102001002"
            lon, lat = city.west if p.side == "west" else city.east
            case = Case(
                status="reported", category="event:0102", urgency="normal", channel="public", description="seed",
                lon=lon, lat=lat, geom=f"SRID=4490;POINT({lon} {lat})", crs_in="wgs84", grid_code=comm + "001",
                community_id=city.areas[comm], street_id=city.areas["420102001"], district_id=city.areas["420102"],
                unit_id=city.units[comm], time_limit_value=p.limit_h, time_limit_unit="hours",
                time_limit_working=False, created_at=p.created, updated_at=p.created,
            )  # fmt: skip
            session.add(case)
            session.flush()
            unit = Actor(None, "unit", city.units[comm])
            if p.fate == "rejected":
                apply(session, case, "reject", OP, at=p.created + 5 * MIN)
                continue
            apply(session, case, "accept", OP, at=p.accepted)
            if p.fate == "accepted":
                continue
            apply(session, case, "file", OP, at=p.filed)
            apply(session, case, "dispatch", OP, at=p.dispatched)
            apply(session, case, "handle", unit, at=p.dispatched + 5 * MIN)
            if p.extension:
                apply(session, case, "extension_request", unit, at=p.dispatched + 10 * MIN, params={"value": 1})
                apply(session, case, "extension_approve", OP, at=p.dispatched + 15 * MIN)
            if p.fate == "parked":
                apply(session, case, "park", OP, at=p.dispatched + 30 * MIN)
            if p.fate in ("error", "special"):
                apply(session, case, "close", OP, at=p.closed, params={"close_type": p.fate})
            if p.fate == "closed":
                c = p.closed
                apply(session, case, "feedback", unit, at=c - 40 * MIN)
                apply(session, case, "check", COL, at=c - 30 * MIN, params={"photos": 1})
                if p.rework:
                    apply(session, case, "rework", OP, at=c - 25 * MIN)
                    apply(session, case, "handle", unit, at=c - 20 * MIN)
                    apply(session, case, "feedback", unit, at=c - 15 * MIN)
                    apply(session, case, "check", COL, at=c - 10 * MIN, params={"photos": 1})
                apply(session, case, "close", OP, at=c, params={"close_type": "normal"})


def expected(plans: list[Plan], start: datetime, end: datetime) -> dict:
    """The definitions of geogrid.cases.stats applied to the plans, for one bucket [start, end)."""

    def inside(t):
        return t is not None and start <= t < end

    due = [
        p for p in plans
        if p.due is not None and p.fate not in ("error", "parked") and inside(min(p.due, p.closed or p.due))
    ]  # fmt: skip
    closed = [p for p in due if p.closed is not None and p.closed < end]
    on_time = [p for p in due if p.closed is not None and p.closed <= p.due]
    hours = [(p.closed - p.dispatched).total_seconds() / 3600 for p in closed]
    return {
        "accepted": sum(inside(p.accepted) for p in plans),
        "filed": sum(inside(p.filed) for p in plans),
        "due": len(due),
        "closed": len(closed),
        "closed_on_time": len(on_time),
        "close_rate": len(closed) / len(due) if due else None,
        "on_time_rate": len(on_time) / len(due) if due else None,
        "rework_rate": sum(p.rework for p in closed) / len(closed) if closed else None,
        "extension_rate": sum(p.extension for p in due) / len(due) if due else None,
        "mean_hours_to_close": sum(hours) / len(hours) if hours else None,
    }


def assert_row(row: dict, want: dict) -> None:
    for key, value in want.items():
        if value is None or isinstance(value, int):
            assert row[key] == value, (key, row[key], value)
        else:
            assert row[key] == pytest.approx(value, abs=1e-4), key


@pytest.fixture
def seeded(city):
    plans = make_plans()
    seed_cases(city.url, city, plans)
    return plans


def test_month_buckets(client, keys, seeded):
    r = client.get(
        "/v1/stats", params={"from": "2026-09-01", "to": "2026-11-30", "period": "month"}, headers=h(keys["operator"])
    )
    assert r.status_code == 200, r.text
    rows = {row["period_start"][:7]: row for row in r.json()["rows"]}
    months = [(datetime(2026, m, 1, tzinfo=TZ), datetime(2026, m + 1, 1, tzinfo=TZ)) for m in (9, 10, 11)]
    for start, end in months:
        want = expected(seeded, start, end)
        if any(want[k] for k in ("accepted", "filed", "due")):
            assert_row(rows[start.strftime("%Y-%m")], want)
    october = expected(seeded, *months[1])
    assert october["due"] > 10 and 0 < october["closed_on_time"] < october["closed"]  # the seed exercises the rates
    assert october["rework_rate"] and october["extension_rate"]


def test_grouped_by_community_and_unit(client, city, keys, seeded):
    start, end = datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 11, 1, tzinfo=TZ)
    for group_by in ("community", "unit"):
        r = client.get(
            "/v1/stats",
            params={"from": "2026-10-01", "to": "2026-10-31", "group_by": group_by},
            headers=h(keys["planner"]),
        )
        rows = {row["group"]["code"]: row for row in r.json()["rows"]}
        for side, comm in (("west", "420102001001"), ("east", "420102001002")):
            code = comm if group_by == "community" else f"u-{comm}"
            assert_row(rows[code], expected([p for p in seeded if p.side == side], start, end))


def test_bad_parameters(client, keys):
    op = h(keys["operator"])
    assert client.get("/v1/stats", params={"period": "year"}, headers=op).json()["details"][0]["field"] == "period"
    assert client.get("/v1/stats", params={"group_by": "city"}, headers=op).status_code == 422
    r = client.get("/v1/stats", params={"from": "2026-10-02", "to": "2026-10-01"}, headers=op)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "to"
    assert client.get("/v1/stats", headers=h(keys["reporter"])).status_code == 403


def test_week_buckets_and_grid_groups(client, keys, seeded):
    s, e = datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 11, 1, tzinfo=TZ)
    r = client.get(
        "/v1/stats", params={"from": "2026-10-01", "to": "2026-10-31", "period": "week"}, headers=h(keys["operator"])
    )
    rows = {datetime.fromisoformat(row["period_start"]).date(): row for row in r.json()["rows"]}
    monday = datetime(2026, 9, 28, tzinfo=TZ)  # the ISO week holding October 1st
    checked = 0
    while monday < e:
        start, end = max(monday, s), min(monday + timedelta(days=7), e)
        want = expected(seeded, start, end)
        if any(want[k] for k in ("accepted", "filed", "due")):
            assert_row(rows[monday.date()], want)
            checked += 1
        monday += timedelta(days=7)
    assert checked >= 4 and len(rows) == checked

    r = client.get(
        "/v1/stats", params={"from": "2026-10-01", "to": "2026-10-31", "group_by": "grid"}, headers=h(keys["operator"])
    )
    rows = {row["group"]: row for row in r.json()["rows"]}
    assert set(rows) == {"420102001001001", "420102001002001"}
    assert_row(rows["420102001001001"], expected([p for p in seeded if p.side == "west"], s, e))
