"""The change counters (migration 0400): bumped by the writes the index depends on, not by draft edits; the
answers carry the version, and ``min_version`` asks for an answer at least that new."""

from __future__ import annotations

from sqlalchemy import text

from geogrid.routing.index import IndexService
from geogrid.store.db import session_scope
from tests.locate.conftest import build_jurisdiction, publish


def _versions(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return tuple(session.execute(text("SELECT spatial, directory, routing FROM store_version")).one())


def test_publish_bumps_spatial_and_draft_grid_edits_do_not(jurisdiction) -> None:
    url = jurisdiction.url
    start = _versions(url)
    with session_scope(url) as session:
        layer = session.execute(text("SELECT id FROM grid_layer WHERE name = 'responsibility'")).scalar_one()
        plan = session.execute(
            text("INSERT INTO plan (name, layer_id, version, status) VALUES ('draft-x', :l, 99, 'draft') RETURNING id"),
            {"l": layer},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO grid (plan_id, code, geom) SELECT :p, code || 'd', geom FROM grid "
                "WHERE plan_id = (SELECT id FROM plan WHERE layer_id = :l AND status = 'published')"
            ),
            {"p": plan, "l": layer},
        )
        session.execute(text("UPDATE grid SET name = 'draft edit' WHERE plan_id = :p"), {"p": plan})
    assert _versions(url) == start  # the planner's draft work never makes a worker rebuild
    with session_scope(url) as session:
        session.execute(text("UPDATE grid SET name = 'renamed' WHERE code = :c"), {"c": jurisdiction.grids[0].code})
    after_edit = _versions(url)
    assert after_edit[0] == start[0] + 1 and after_edit[1:] == start[1:]
    with session_scope(url) as session:
        publish(session, "responsibility", "resp-v2", build_jurisdiction()[1], jurisdiction.area_ids, False)
    assert _versions(url)[0] > after_edit[0]
    with session_scope(url) as session:
        session.execute(text("INSERT INTO unit (code, name) VALUES ('u-x', 'x')"))
    final = _versions(url)
    assert final[1] == start[1] + 1 and final[2] == start[2] + 1


def test_index_follows_the_counter_and_answers_carry_it(jurisdiction, client) -> None:
    index = IndexService(jurisdiction.url, listen=False)
    first = index.snapshot
    assert index.refresh() is False  # nothing moved: one counter read, no rebuild
    with session_scope(jurisdiction.url) as session:
        publish(session, "responsibility", "resp-v2", build_jurisdiction()[1], jurisdiction.area_ids, False)
    assert index.refresh() is True
    assert index.snapshot.version > first.version
    p = jurisdiction.grids[3].geom.representative_point()
    body = client.get("/v1/locate", params={"lon": p.x, "lat": p.y, "min_version": index.snapshot.version}).json()
    assert body["index_version"] >= index.snapshot.version
    assert body["grid"]["plan"]["name"] == "resp-v2"
    too_new = client.get("/v1/locate", params={"lon": p.x, "lat": p.y, "min_version": body["index_version"] + 5})
    assert too_new.status_code == 503
    assert too_new.json()["details"][0]["field"] == "min_version"
