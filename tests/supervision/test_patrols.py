"""Patrols through the API: GCJ-02 and BD-09 tracks accepted like reports, grids visited derived in PostGIS, GPS
jumps dropped, weekly compliance per grid, the GeoJSON patrol layer, clear 422s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from geogrid.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.cases.conftest import MID_Y, h
from tests.supervision.helpers import ok

WEST_NORTH, WEST_SOUTH = "420102001001001", "420102001001002"


def walk(city, start: datetime, n: int = 40) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A north-bound walk from the west-south grid across MID_Y into the west-north grid, ~1.3 m/s."""
    x = np.full(n, city.west[0])
    y = np.linspace(MID_Y - 0.002, MID_Y + 0.002, n)  # ~440 m
    times = [(start + timedelta(seconds=9 * i)).isoformat() for i in range(n)]
    return x, y, times


def feature(xs, ys, times) -> dict:
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[float(a), float(b)]
            for a, b in zip(xs, ys, strict=True)]}, "properties": {"times": times}}  # fmt: skip


def test_tracks_in_offset_crs_give_grid_visits_and_weekly_compliance(client, city, keys):
    start = datetime.now(UTC) - timedelta(hours=3)
    x, y, times = walk(city, start)
    gx, gy = wgs84_to_gcj02(x, y)
    gx[10] += 0.05  # a 5 km GPS jump in 9 s: dropped
    key = h(keys["collector"], **{"Idempotency-Key": "walk-1"})
    first = ok(client.post("/v1/patrols?crs=gcj02", json=feature(gx, gy, times), headers=key), 201)
    assert first["dropped_fixes"] == 1 and first["n_fixes"] == 39
    assert {g["grid_code"] for g in first["grids"]} == {WEST_NORTH, WEST_SOUTH}
    assert 400 < first["length_m"] < 480  # the jump did not inflate the length
    again = client.post("/v1/patrols?crs=gcj02", json=feature(gx, gy, times), headers=key)
    assert again.status_code == 201 and again.json()["id"] == first["id"] and again.headers["Idempotent-Replayed"]

    bx, by = wgs84_to_bd09(x[:20], y[:20])  # only the southern half, as a batch of fixes from the Baidu SDK
    fixes = [{"lon": float(a), "lat": float(b), "t": t} for a, b, t in zip(bx, by, times[:20], strict=True)]
    second = ok(client.post("/v1/patrols", json={"crs": "bd09", "fixes": fixes}, headers=h(keys["collector"])), 201)
    assert [g["grid_code"] for g in second["grids"]] == [WEST_SOUTH]
    third = ok(client.post("/v1/patrols", json=feature(x, y, times), headers=h(keys["collector"])), 201)

    week = start.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = ok(client.get(f"/v1/patrols/compliance?week={week}", headers=h(keys["operator"])))
    by_code = {g["grid_code"]: g for g in report["grids"]}
    assert by_code[WEST_SOUTH]["patrols"] == 3 and by_code[WEST_SOUTH]["compliant"] is True
    assert by_code[WEST_NORTH]["patrols"] == 2 and by_code[WEST_NORTH]["compliant"] is False
    assert by_code["420102001002001"]["patrols"] == 0 and report["total"] == 4 and report["compliant"] == 1
    assert by_code[WEST_SOUTH]["people"] == ["t-collector"]

    layer = ok(client.get(f"/v1/patrols?grid_code={WEST_NORTH}", headers=h(keys["operator"])))
    assert sorted(f["id"] for f in layer["features"]) == sorted([first["id"], third["id"]])
    assert layer["features"][0]["geometry"]["type"] == "LineString"
    assert client.get("/v1/patrols", headers=h(keys["collector"])).status_code == 403  # location data: operators


def test_bad_tracks_are_refused_with_the_field(client, city, keys):
    x, y, times = walk(city, datetime.now(UTC) - timedelta(hours=1))
    post = lambda body, q="": client.post(f"/v1/patrols{q}", json=body, headers=h(keys["collector"]))  # noqa: E731
    cases = [
        (feature(x, y, list(reversed(times))), "times"),
        (feature(x, y, [t.replace("+00:00", "") for t in times]), "times[0]"),
        (feature(x, y, times[:-1]), "times"),
        (feature(x[:1], y[:1], times[:1]), "geometry.coordinates"),
        ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}, "geometry"),
        (feature(x + 1.0, y, times), "geometry"),  # 100 km east: no grid visited
        (feature(np.where(np.arange(len(x)) == 3, 500.0, x), y, times), "geometry.coordinates[3][0]"),
    ]
    for body, field in cases:
        r = post(body)
        assert r.status_code == 422 and r.json()["details"][0]["field"] == field, (field, r.text)
    r = post(feature(x, y, times), "?crs=gcj03")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "crs"
    future = [(datetime.now(UTC) + timedelta(hours=2, seconds=i)).isoformat() for i in range(len(x))]
    assert post(feature(x, y, future)).json()["details"][0]["field"] == "times"
