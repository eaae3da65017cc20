"""Report intake: idempotency (sequential and concurrent), photos, routing, duplicates, bad input."""

from __future__ import annotations

import threading

import pytest
from pyproj import Geod
from sqlalchemy import func, select

from geogrid.cases.intake import ReportInput, submit_report
from geogrid.cases.models import Case, CaseEvent, CasePhoto
from geogrid.cases.workflow import Actor
from geogrid.crs import wgs84_to_gcj02
from geogrid.store.db import session_scope
from geogrid.store.models import Account
from tests.cases.conftest import h, png_bytes, report_body

GEOD = Geod(ellps="WGS84")


def count_cases(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_retry_with_same_key_returns_same_case(client, city, keys):
    body = report_body(city.west)
    first = client.post("/v1/reports", json=body, headers=h(keys["reporter"], **{"Idempotency-Key": "abc-1"}))
    again = client.post("/v1/reports", json=body, headers=h(keys["reporter"], **{"Idempotency-Key": "abc-1"}))
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert count_cases(city.url) == 1

    changed = client.post(
        "/v1/reports",
        json={**body, "description": "另一件事"},
        headers=h(keys["reporter"], **{"Idempotency-Key": "abc-1"}),
    )
    assert changed.status_code == 409 and changed.json()["details"][0]["field"] == "Idempotency-Key"
    other_account = client.post("/v1/reports", json=body, headers=h(keys["reporter2"], **{"Idempotency-Key": "abc-1"}))
    assert other_account.status_code == 201 and other_account.json()["id"] != first.json()["id"]
    no_key = client.post("/v1/reports", json=body, headers=h(keys["reporter"]))
    assert no_key.status_code == 201
    assert count_cases(city.url) == 3


def test_concurrent_retries_make_one_case(city, keys):
    """Eight sessions race with one key: the unique constraint + ON CONFLICT leave exactly one case and one event."""
    with session_scope(city.url) as session:
        account_id = session.scalar(select(Account.id).where(Account.name == "t-reporter"))
    report = ReportInput(lon=city.east[0], lat=city.east[1], category="event:0102", description="并发重试")
    barrier = threading.Barrier(8)
    ids, errors = [], []

    def worker() -> None:
        try:
            with session_scope(city.url) as session:
                barrier.wait()
                result = submit_report(session, report, Actor(account_id, "reporter"), idempotency_key="race-1")
                ids.append(result.case.id)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 8
    with session_scope(city.url) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_routing_grid_unit_and_time_limit(client, city, keys):
    r = client.post("/v1/reports", json=report_body(city.east), headers=h(keys["collector"]))
    view = client.get(f"/v1/cases/{r.json()['id']}", headers=h(keys["operator"])).json()
    assert view["grid_code"] == "420102001002001"  # the north grid of the east community
    assert view["grids"]["responsibility"]["code"] == "420102001002001"
    assert view["community"]["code"] == "420102001002" and view["street"]["code"] == "420102001"
    assert view["unit"]["id"] == city.units["420102001002"]
    assert view["time_limit"] == {"value": 4.0, "unit": "hours", "working": True}
    assert view["channel"] == "collector"
    assert [e["action"] for e in view["history"]] == ["report"]

    urgent = client.post("/v1/reports", json=report_body(city.west, urgency="urgent"), headers=h(keys["reporter"]))
    assert urgent.json()["time_limit"]["value"] == 2.0
    owner = client.post("/v1/reports", json=report_body(city.west, "部件:0101"), headers=h(keys["reporter"]))
    assert owner.status_code == 201
    assert owner.json()["category"]["code"] == "component:0101"
    assert owner.json()["unit"]["id"] == city.units["dept-cgzf"]  # 部件先属主


def test_offset_crs_is_converted_before_storing(client, city, keys):
    glon, glat = wgs84_to_gcj02(*city.west)
    r = client.post(
        "/v1/reports", json=report_body((float(glon), float(glat)), crs="gcj02"), headers=h(keys["operator"])
    )
    assert r.status_code == 403  # operators do not file reports through intake
    r = client.post(
        "/v1/reports", json=report_body((float(glon), float(glat)), crs="gcj02"), headers=h(keys["collector"])
    )
    view = r.json()
    assert abs(view["location"]["lon"] - city.west[0]) < 1e-6 and abs(view["location"]["lat"] - city.west[1]) < 1e-6


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"category": "垃圾"}, "category"),
        ({"urgency": "asap"}, "urgency"),
        ({"crs": "EPSG:999999"}, "crs"),
        ({"lon": 200.0}, "lon"),
        ({"description": ""}, "description"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_reports_name_the_field(client, city, keys, patch, field):
    r = client.post("/v1/reports", json={**report_body(city.west), **patch}, headers=h(keys["reporter"]))
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["details"]]


def test_outside_and_unauthenticated(client, city, keys):
    r = client.post("/v1/reports", json=report_body(city.outside), headers=h(keys["reporter"]))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "location"
    assert client.post("/v1/reports", json=report_body(city.west)).status_code == 401
    assert count_cases(city.url) == 0


def test_multipart_photos_validated_and_stored(client, city, keys, media_dir, monkeypatch):
    fields = {k: str(v) for k, v in report_body(city.west).items()}
    photo = png_bytes(shade=9)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    r = client.post(
        "/v1/reports",
        data=fields,
        files=[("photos", ("a.png", photo, "image/png")), ("photos", ("b.jpg", jpeg, "image/jpeg"))],
        headers=h(keys["reporter"], **{"Idempotency-Key": "with-photos"}),
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    stored = sorted(p.suffix for p in media_dir.rglob("*.*"))
    assert stored == [".jpg", ".png"]
    again = client.post(
        "/v1/reports",
        data=fields,
        files=[("photos", ("a.png", photo, "image/png")), ("photos", ("b.jpg", jpeg, "image/jpeg"))],
        headers=h(keys["reporter"], **{"Idempotency-Key": "with-photos"}),
    )
    assert again.json()["id"] == cid
    with session_scope(city.url) as session:
        assert session.scalar(select(func.count()).select_from(CasePhoto)) == 2
    view = client.get(f"/v1/cases/{cid}", headers=h(keys["operator"])).json()
    got = client.get(f"/v1/cases/{cid}/photos/{view['photos'][0]['id']}", headers=h(keys["operator"]))
    assert got.status_code == 200 and got.content in (photo, jpeg)

    fake = client.post(
        "/v1/reports",
        data=fields,
        files=[("photos", ("evil.png", b"GIF89a not a png", "image/png"))],
        headers=h(keys["reporter"]),
    )
    assert fake.status_code == 422 and fake.json()["details"][0]["field"] == "photos[0]"
    monkeypatch.setenv("GEOGRID_CASES_MAX_PHOTO_BYTES", "100")
    big = client.post(
        "/v1/reports",
        data=fields,
        files=[("photos", ("big.png", png_bytes() + bytes(200), "image/png"))],
        headers=h(keys["reporter"]),
    )
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
    assert count_cases(city.url) == 1


def _offset(point, metres, azimuth=90.0):
    lon, lat, _ = GEOD.fwd(point[0], point[1], azimuth, metres)
    return (lon, lat)


def test_duplicates_within_50_m_of_an_open_case_of_the_same_category(client, city, keys):
    first = client.post("/v1/reports", json=report_body(city.west), headers=h(keys["reporter"])).json()
    near = client.post("/v1/reports", json=report_body(_offset(city.west, 30)), headers=h(keys["reporter2"])).json()
    assert near["possible_duplicate"]["id"] == first["id"] and near["possible_duplicate_of"] == first["id"]
    far = client.post("/v1/reports", json=report_body(_offset(city.west, 80, 0)), headers=h(keys["reporter2"])).json()
    assert "possible_duplicate" not in far and far["possible_duplicate_of"] is None
    other_kind = client.post(
        "/v1/reports", json=report_body(_offset(city.west, 10), "event:0401"), headers=h(keys["reporter2"])
    ).json()
    assert other_kind["possible_duplicate_of"] is None

    for case_id in (first["id"], near["id"]):
        client.post(f"/v1/cases/{case_id}/reject", json={}, headers=h(keys["operator"]))
    later = client.post("/v1/reports", json=report_body(_offset(city.west, 5)), headers=h(keys["reporter"])).json()
    assert later["possible_duplicate_of"] is None  # closed/rejected cases are not open any more


def test_oversized_and_malformed_bodies(client, city, keys):
    huge = {**report_body(city.west), "description": "x" * 70_000}
    r = client.post("/v1/reports", json=huge, headers=h(keys["reporter"]))
    assert r.status_code == 413 and r.json()["details"][0]["field"] == "body"
    r = client.post(
        "/v1/reports", content=b"{not json", headers=h(keys["reporter"], **{"Content-Type": "application/json"})
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body"
    r = client.post("/v1/reports", content=b"lon=1", headers=h(keys["reporter"], **{"Content-Type": "text/plain"}))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "Content-Type"
    fields = {k: str(v) for k, v in report_body(city.west).items()}
    files = [("photos", (f"{i}.png", png_bytes(shade=i), "image/png")) for i in range(7)]
    r = client.post("/v1/reports", data=fields, files=files, headers=h(keys["reporter"]))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body"
    assert count_cases(city.url) == 0
