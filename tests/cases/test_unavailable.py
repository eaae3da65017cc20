"""A lost store is the server's temporary trouble: 503 + Retry-After, never 500 (the restart test does it live)."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from api.main import create_app
from geogrid.store.db import get_engine
from tests.cases.conftest import h, report_body


def test_database_down_is_503_not_500(monkeypatch, tmp_path):
    """With the store unreachable every case endpoint answers 503 + Retry-After in the shared error body."""
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GEOGRID_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    monkeypatch.setenv("GEOGRID_MEDIA_DIR", str(tmp_path))
    get_engine.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        calls = [
            client.post("/v1/reports", json=report_body((114.3, 30.5)), headers=h("gg_whatever")),
            client.get("/v1/cases/1"),
            client.post("/v1/cases/1/accept", json={}, headers=h("gg_whatever")),
            client.get("/v1/stats", headers=h("gg_whatever")),
        ]
        for r in calls:
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "unavailable" and r.headers["Retry-After"] == "1"
        o311 = client.get("/open311/v2/requests/1.json")
        assert o311.status_code == 503 and o311.json()[0]["code"] == 503
    get_engine.cache_clear()
