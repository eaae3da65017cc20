"""Small helpers shared by the supervision tests."""

from __future__ import annotations

from sqlalchemy import update

from geogrid.store.accounts import create_account
from geogrid.store.db import session_scope
from geogrid.store.models import Account
from tests.cases.conftest import h, report_body


def ok(resp, status: int = 200) -> dict:
    assert resp.status_code == status, resp.text
    return resp.json()


def act(client, case_id: int, action: str, key: str, **body):
    return client.post(f"/v1/cases/{case_id}/{action}", json=body, headers=h(key))


def report(client, key: str, point, **extra) -> dict:
    return ok(client.post("/v1/reports", json=report_body(point, **extra), headers=h(key)), 201)


def account(url: str, name: str, role: str, unit_id: int | None = None, admin_area_id: int | None = None) -> str:
    with session_scope(url) as session:
        acc, key = create_account(session, name, role, unit_id)
        session.execute(update(Account).where(Account.id == acc.id).values(admin_area_id=admin_area_id))
    return key


def dispatched(client, keys: dict, point, **extra) -> int:
    cid = report(client, keys["reporter"], point, **extra)["id"]
    for action in ("accept", "file", "dispatch"):
        ok(act(client, cid, action, keys["operator"]))
    return cid
