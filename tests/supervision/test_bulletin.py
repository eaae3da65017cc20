"""Acceptance: the monthly bulletin's figures equal those computed here, independently, from a seeded month.

The month (March 2026) is seeded through the library with explicit times (intake, workflow actions, ratings,
on-the-spot handlings, patrols), because the API always acts "now"; the bulletin is then read through the API. Every
expected figure below is derived from the SEED table by plain Python, not by the code under test: a case planned
"ontime" closes an hour after dispatch, "late" the next working morning (after its 4-working-hour deadline),
"open" never closes, so whether each is due, closed and on time in March is known by construction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from geogrid.assessment.satisfaction import rate
from geogrid.cases import media
from geogrid.cases.calendar import load_calendar
from geogrid.cases.intake import ReportInput, submit_report
from geogrid.cases.settings import CaseSettings
from geogrid.cases.workflow import Actor, apply
from geogrid.patrols.settings import PatrolSettings
from geogrid.patrols.tracks import parse_track, store_patrol
from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import Person
from geogrid.supervision.onspot import handle_on_the_spot
from tests.cases.conftest import MID_Y, h, png_bytes
from tests.supervision.helpers import ok

TZ = ZoneInfo("Asia/Shanghai")
ADMIN = Actor(None, "admin")


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@dataclass(frozen=True)
class Seed:
    who: str  # reporter | collector
    where: str  # west | east
    category: str
    channel: str
    month: int
    day: int
    plan: str  # ontime | late | open | rejected | error | onspot | dispatch_late (dispatched 16:00 on the 31st)
    rating: int | None = None


SEED = [
    Seed("reporter", "west", "event:0102", "public", 3, 3, "ontime", 5),
    Seed("reporter", "west", "event:0102", "public", 3, 4, "ontime", 4),
    Seed("collector", "west", "event:0102", "collector", 3, 5, "ontime"),
    Seed("reporter", "west", "event:0102", "hotline", 3, 10, "late", 2),
    Seed("reporter", "east", "event:0102", "public", 3, 3, "ontime", 3),
    Seed("collector", "east", "event:0102", "collector", 3, 11, "late"),
    Seed("collector", "east", "event:0102", "video", 3, 12, "open"),
    Seed("collector", "west", "component:0101", "collector", 3, 17, "ontime"),
    Seed("reporter", "west", "component:0101", "public", 3, 18, "ontime", 5),
    Seed("reporter", "west", "event:0102", "public", 3, 19, "rejected"),
    Seed("collector", "west", "event:0104", "collector", 3, 20, "onspot"),
    Seed("collector", "east", "event:0104", "collector", 3, 20, "onspot"),
    Seed("reporter", "west", "event:0102", "public", 3, 24, "error"),
    Seed("reporter", "west", "event:0102", "public", 2, 26, "ontime", 1),  # February: outside the month
    Seed("reporter", "east", "event:0102", "public", 3, 31, "dispatch_late"),  # due on 1 April: not due in March
]
PATROL_DAYS = [(3, 3), (3, 4), (3, 6), (3, 10)]  # three in the week of 2 March, one in the week of 9 March


def _unit_of(s: Seed, city) -> int:
    if s.category.startswith("component"):
        return city.units["dept-cgzf"]
    return city.units["420102001001" if s.where == "west" else "420102001002"]


def _steps(s: Seed) -> list[tuple[str, datetime, dict]]:
    day = lambda h, m=0: at(s.month, s.day, h, m)  # noqa: E731
    nxt = lambda h, m=0: day(h, m) + timedelta(days=1)  # noqa: E731
    flow = [("accept", day(9), {}), ("file", day(9), {}), ("dispatch", day(9), {}), ("handle", day(9, 10), {})]
    close = [("feedback", day(9, 30), {}), ("check", day(9, 40), {"photos": 1}), ("close", day(10), {})]
    late = [("feedback", nxt(9, 30), {}), ("check", nxt(9, 40), {"photos": 1}), ("close", nxt(10), {})]
    return {
        "ontime": flow + close,
        "late": flow + late,
        "open": flow,
        "rejected": [("reject", day(9), {})],
        "error": [("accept", day(9), {}), ("close", day(9, 5), {"close_type": "error"})],
        "dispatch_late": [("accept", day(16), {}), ("file", day(16), {}), ("dispatch", day(16), {})],
    }[s.plan]


def seed_month(city, accounts: dict[str, Actor]) -> None:
    settings = CaseSettings.from_env()
    photo = media.validate(png_bytes(shade=7), "photo", settings)
    with session_scope(city.url) as session:
        calendar = load_calendar(session)
        for i, s in enumerate(SEED):
            x, y = city.west if s.where == "west" else city.east
            report = ReportInput(lon=x, lat=y + 0.0001 * i, category=s.category, description=f"seed {i}",
                                 channel=s.channel)  # fmt: skip
            created = at(s.month, s.day, 8, 30)
            if s.plan == "onspot":
                handle_on_the_spot(session, report, accounts[s.who], before=[photo], after=[photo], now=created)
                continue
            case = submit_report(session, report, accounts[s.who], now=created).case
            for action, when, params in _steps(s):
                apply(session, case, action, ADMIN, at=when, params=params, calendar=calendar)
            if s.rating is not None:
                rate(session, case, accounts[s.who], s.rating, at=case.closed_at + timedelta(hours=1))
        for month, day in PATROL_DAYS:
            start = at(month, day, 15)
            n = 30
            fixes = [{"lon": city.west[0], "lat": MID_Y - 0.004 + 0.00008 * k,
                      "t": (start + timedelta(seconds=10 * k)).isoformat()} for k in range(n)]  # fmt: skip
            track = parse_track({"fixes": fixes}, "wgs84", PatrolSettings(), now=start + timedelta(hours=1))
            store_patrol(session, track, PatrolSettings(), account_id=accounts["collector"].account_id, person_id=None)


def expected(city) -> dict:
    """The bulletin's figures for March, from SEED alone."""
    march = [s for s in SEED if s.month == 3]
    due = [s for s in march if s.plan in ("ontime", "late", "open")]
    units: dict[int, dict] = {}
    for s in due:
        u = units.setdefault(_unit_of(s, city), {"due": 0, "closed": 0, "on_time": 0, "ratings": []})
        u["due"] += 1
        u["closed"] += s.plan in ("ontime", "late")
        u["on_time"] += s.plan == "ontime"
        if s.rating is not None:
            u["ratings"].append(s.rating)
    valid = [s for s in march if s.plan not in ("rejected", "error")]
    channels = Counter(s.channel for s in valid)
    ratings = [s.rating for s in march if s.rating is not None]
    return {
        "due": len(due),
        "closed": sum(u["closed"] for u in units.values()),
        "on_time": sum(u["on_time"] for u in units.values()),
        "accepted": sum(s.plan not in ("rejected", "onspot") for s in march),
        "filed": sum(s.plan in ("ontime", "late", "open", "dispatch_late") for s in march),
        "on_spot": sum(s.plan == "onspot" for s in march),
        "units": units,
        "channels": channels,
        "discovery_rate": (channels["collector"] + channels["video"]) / len(valid),
        "ratings": ratings,
        "reports": Counter(s.who for s in march),
    }


def test_bulletin_figures_equal_an_independent_count_of_a_seeded_month(client, city, keys, media_dir):
    with session_scope(city.url) as session:
        reporter, _ = create_account(session, "b-reporter", "reporter")
        collector, _ = create_account(session, "b-collector", "collector")
        session.add(Person(name="赵网格", account_id=collector.id))
        accounts = {"reporter": Actor(reporter.id, "reporter"), "collector": Actor(collector.id, "collector")}
    seed_month(city, accounts)
    want = expected(city)

    b = ok(client.get("/v1/stats/bulletin?month=2026-03", headers=h(keys["operator"])))
    t = b["totals"]
    assert (t["due"], t["closed"], t["closed_on_time"]) == (want["due"], want["closed"], want["on_time"])
    assert (t["accepted"], t["filed"], t["on_spot"]) == (want["accepted"], want["filed"], want["on_spot"])
    assert t["on_time_rate"] == round(want["on_time"] / want["due"], 6)
    assert {k: v for k, v in b["discovery"]["by_channel"].items() if v} == dict(want["channels"])
    assert b["discovery"]["discovery_rate"] == round(want["discovery_rate"], 6)
    s = b["satisfaction"]
    assert s["count"] == len(want["ratings"]) and s["mean"] == round(sum(want["ratings"]) / len(want["ratings"]), 4)
    assert s["distribution"] == {str(k): want["ratings"].count(k) for k in range(1, 6)}

    got_units = {row["group"]["id"]: row for row in b["units"]}
    assert set(got_units) == set(want["units"])
    for unit_id, u in want["units"].items():
        row = got_units[unit_id]
        assert (row["due"], row["closed"], row["closed_on_time"]) == (u["due"], u["closed"], u["on_time"])
        mean = round(sum(u["ratings"]) / len(u["ratings"]), 4) if u["ratings"] else None
        assert row["satisfaction"] == mean
    order = sorted(want["units"], key=lambda k: (-want["units"][k]["on_time"] / want["units"][k]["due"],
                                                 -want["units"][k]["closed"] / want["units"][k]["due"]))  # fmt: skip
    size = min(3, len(order) // 2)
    assert [r["group"]["id"] for r in b["ranking"]["red"]] == order[:size]
    assert [r["group"]["id"] for r in b["ranking"]["black"]] == list(reversed(order))[:size]

    assert [(r["group"], r["due"], r["on_spot"]) for r in b["tiers"]] == [("A", want["due"], want["on_spot"])]
    people = {p["account"]: p for p in b["people"]}
    assert people["b-collector"]["person"] == "赵网格" and people["b-collector"]["patrols"] == len(PATROL_DAYS)
    assert people["b-collector"]["reports"] == want["reports"]["collector"] and people["b-collector"]["on_spot"] == 2
    assert people["b-reporter"]["reports"] == want["reports"]["reporter"]
    patrolled = {g["grid_code"]: g for g in b["patrols"]["grids"]}
    assert b["patrols"]["weeks"] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]
    assert patrolled["420102001001002"]["patrols"] == 4 and patrolled["420102001001002"]["compliant_weeks"] == 1
    assert b["patrols"]["compliance_rate"] == round(1 / (5 * 4), 6)

    page = client.get("/v1/stats/bulletin?month=2026-03&format=html", headers=h(keys["operator"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "红榜" in page.text and "黑榜" in page.text and "<script" not in page.text
    assert client.get("/v1/stats/bulletin?month=2026-13", headers=h(keys["operator"])).status_code == 422
    assert client.get("/v1/stats/bulletin?month=2026-03").status_code == 401
