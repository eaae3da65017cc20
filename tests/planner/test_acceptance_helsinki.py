"""Acceptance: a real plan our engine did not make — Helsinki's OSM city blocks widened to the street middles,
imported with ``geogrid import grids``, its real roads with ``geogrid import roads`` — copied, edited (a block moved
between neighbours, two grids merged, one split and the split undone), compared, its impact on seeded cases and
assignments listed, and published with a note that the history shows."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import pytest
import shapely
from sqlalchemy import text

from geogrid.store.db import session_scope
from geogrid.validation import build_report, find_plan
from tests.planner.conftest import auth, responsible, seed_case, staff
from tests.planner.helsinki import write_plan
from tests.store.conftest import ok

LAYER, PLAN, DRAFT = "unit", "hel-kortteli-2026", "hel-kortteli-2027"
NEIGHBOURS = """
SELECT b.id AS block, b.grid_code AS source, g.code AS target,
       ST_Length(ST_Intersection(ST_Boundary(b.geom), g.geom)::geography) AS shared_m, ST_Area(b.geom::geography) AS m2
FROM plan_block b JOIN plan p ON p.id = b.plan_id
JOIN grid g ON g.plan_id = b.plan_id AND g.code <> b.grid_code AND ST_Intersects(b.geom, g.geom)
WHERE p.name = :p AND (SELECT count(*) FROM plan_block x WHERE x.plan_id = b.plan_id AND x.grid_code = b.grid_code) > 1
ORDER BY shared_m DESC LIMIT 1
"""
TOUCHING = """
SELECT a.code, b.code FROM grid a
JOIN grid b ON b.plan_id = a.plan_id AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
JOIN plan p ON p.id = a.plan_id
WHERE p.name = :p AND NOT (a.code = ANY(:skip)) AND NOT (b.code = ANY(:skip))
ORDER BY ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) DESC LIMIT 1
"""


@dataclass
class Helsinki:
    url: str
    key: str
    grids: dict[str, shapely.Geometry]


@pytest.fixture
def helsinki(store_url, tmp_path) -> Helsinki:
    paths = write_plan(tmp_path)
    ok("import", "admin", paths["district"], "--level", "district")
    ok("import", "admin", paths["street"], "--level", "street", "--parent-field", "parent_code")
    ok("import", "admin", paths["community"], "--level", "community", "--parent-field", "parent_code")
    ok("import", "grids", paths["grids"], "--layer", LAYER, "--plan", PLAN)
    roads = ok("import", "roads", paths["roads"], "--plan", PLAN, "--json")
    assert json.loads(roads.stdout)["edges"] > 100  # centrelines, merged between junctions
    ok("plan", "publish", PLAN, "--note", "imported from OSM city blocks")
    ok("user", "add", "planner-hel", "--role", "planner")
    with session_scope(store_url) as s:
        rows = s.execute(
            text("SELECT g.code, ST_AsBinary(g.geom) FROM grid g JOIN plan p ON p.id = g.plan_id WHERE p.name = :p"),
            {"p": PLAN},
        ).all()
    key = ok("user", "add", "planner-2", "--role", "planner").output.strip().splitlines()[-1]
    return Helsinki(store_url, key, {c: shapely.from_wkb(bytes(w)) for c, w in rows})


def _point_in(url: str, sql: str, **params) -> tuple[float, float]:
    with session_scope(url) as s:
        wkb = s.execute(text(sql), params).scalar_one()
    pt = shapely.point_on_surface(shapely.from_wkb(bytes(wkb)))
    return pt.x, pt.y


def test_real_plan_copy_edit_diff_impact_publish(helsinki: Helsinki, client) -> None:
    h, key = helsinki, auth(helsinki.key)
    assert len(h.grids) >= 30

    copied = client.post(f"/v1/plans/{PLAN}/copy", json={"name": DRAFT}, headers=key)
    assert copied.status_code == 201, copied.text
    first = copied.json()
    assert first["blocks"] > len(h.grids) and first["checks"]["overlaps"]["count"] == 0
    coverage = first["checks"]["coverage"]["ratio"]
    assert coverage > 0.999
    with session_scope(h.url) as s:  # on real data too, the live checks agree with validation
        v = build_report(s, find_plan(s, DRAFT))["summary"]
    c = first["checks"]
    assert (c["gaps"]["count"], c["overlaps"]["count"]) == (v["gaps"], v["overlaps"])
    assert (c["crossings"]["count"], c["outside_jurisdiction"]["count"]) == (v["crossings"], v["outside_jurisdiction"])

    # --- seed what publishing affects: cases, people, units on the published plan's codes
    with session_scope(h.url) as s:
        pick = s.execute(text(NEIGHBOURS), {"p": DRAFT}).one()
    x, y = pick.source, pick.target
    with session_scope(h.url) as s:
        z, w = s.execute(text(TOUCHING), {"p": DRAFT, "skip": [x, y]}).one()
    moved_pt = _point_in(h.url, "SELECT ST_AsBinary(geom) FROM plan_block WHERE id = :b", b=pick.block)
    w_pt = shapely.point_on_surface(h.grids[w])
    still = next(c for c in sorted(h.grids) if c not in (x, y, z, w))
    with session_scope(h.url) as s:
        case_moved = seed_case(s, *moved_pt, x)
        case_merged = seed_case(s, w_pt.x, w_pt.y, w)
        seed_case(s, *moved_pt, x, status="closed")
        p = shapely.point_on_surface(h.grids[still])
        seed_case(s, p.x, p.y, still)
        a_w, person_w = staff(s, LAYER, w, "王芳")
        staff(s, LAYER, still, "李强")
        unit_w = responsible(s, LAYER, w, "ws-w")
        responsible(s, LAYER, z, "ws-z")

    # --- move a block between two neighbouring grids
    moved = client.post(f"/v1/plans/{DRAFT}/edits", json={"op": "move", "blocks": [pick.block], "to": y}, headers=key)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    areas = {f["properties"]["code"]: f["properties"]["area_m2"] for f in body["changed"]["features"]}
    assert set(areas) == {x, y}
    assert body["checks"]["coverage"]["ratio"] == pytest.approx(coverage, abs=1e-6)
    assert body["checks"]["overlaps"]["count"] == 0 and body["checks"]["crossings"]["count"] == 0

    # --- merge two grids
    merged = client.post(f"/v1/plans/{DRAFT}/edits", json={"op": "merge", "codes": [z, w]}, headers=key)
    assert merged.status_code == 200, merged.text
    assert merged.json()["removed"] == [w]

    # --- split one along a line, then undo the split
    target = max((c for c in h.grids if c not in (x, y, z, w)), key=lambda c: h.grids[c].area)
    g = h.grids[target]
    c = shapely.point_on_surface(g)
    x0, y0, x1, y1 = g.bounds
    wide = (x1 - x0) * 0.5 > (y1 - y0)  # degrees: a longitude degree is half a latitude degree here (60°N)
    line = [[c.x, y0 - 0.001], [c.x, y1 + 0.001]] if wide else [[x0 - 0.002, c.y], [x1 + 0.002, c.y]]
    split = client.post(
        f"/v1/plans/{DRAFT}/edits",
        json={"op": "split", "code": target, "line": {"type": "LineString", "coordinates": line}},
        headers=key,
    )
    assert split.status_code == 200, split.text
    parts = {f["properties"]["code"] for f in split.json()["changed"]["features"]}
    assert target in parts and len(parts) >= 2
    undone = client.post(f"/v1/plans/{DRAFT}/undo", headers=key)
    assert undone.status_code == 200 and set(undone.json()["removed"]) == parts - {target}

    # --- diff against the original: lineage shares of every old grid add up to 1 (within 0.1 %)
    diff = client.get(f"/v1/plans/{PLAN}/diff/{DRAFT}", headers=key)
    assert diff.status_code == 200
    d = diff.json()
    shares = defaultdict(float)
    for row in d["lineage"]:
        shares[row["from_code"]] += row["share_of_from"]
    assert set(shares) == set(h.grids)
    assert all(abs(total - 1.0) < 1e-3 for total in shares.values()), shares
    assert d["removed"] == [w] and {x, y, z} <= {r["code"] for r in d["reshaped"]}
    assert target in d["unchanged"] and d["summary"]["unchanged"] == len(h.grids) - 4
    w_to_z = next(r for r in d["lineage"] if r["from_code"] == w and r["to_code"] == z)
    assert w_to_z["share_of_from"] == pytest.approx(1.0, abs=1e-4)
    csv = client.get(f"/v1/plans/{PLAN}/diff/{DRAFT}?f=csv", headers=key)
    assert (
        csv.status_code == 200
        and csv.text.splitlines()[0] == "from_code,to_code,shared_area_m2,share_of_from,share_of_to"
    )
    assert len(csv.text.splitlines()) == len(d["lineage"]) + 1

    # --- impact on open cases, people, units and routing
    imp = client.get(f"/v1/plans/{DRAFT}/impact", headers=key).json()
    assert {(c["id"], c["old_code"], c["new_code"]) for c in imp["cases"]} == {(case_moved, x, y), (case_merged, w, z)}
    person = next(p for p in imp["people"] if p["person"] == "王芳")
    assert (person["fate"], person["to_code"]) == ("carried", z)
    assert next(p for p in imp["people"] if p["person"] == "李强")["fate"] == "kept"
    unit = next(u for u in imp["units"] if u["grid_code"] == w)
    assert unit["fate"] == "conflict" and [r["grid_code"] for r in imp["routing_rules"]] == [w]

    # --- publish with a note; the history shows it
    refused = client.post(f"/v1/plans/{DRAFT}/publish", json={}, headers=key)
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "note"
    published = client.post(f"/v1/plans/{DRAFT}/publish", json={"note": "2027 年度调整：合并两网格"}, headers=key)
    assert published.status_code == 200, published.text
    filing = published.json()["filing"]
    assert filing["note"] == "2027 年度调整：合并两网格" and filing["actor"] == "planner-2"
    assert filing["summary"]["grids"]["removed"] == 1 and filing["previous_plan"] == PLAN
    history = client.get(f"/v1/plans/{DRAFT}/history", headers=key).json()
    assert history["plan"]["status"] == "published" and history["plan"]["copied_from"] == PLAN
    assert history["filings"][0]["note"] == "2027 年度调整：合并两网格"
    assert [e["op"] for e in history["edits"]][::-1][:5] == ["copy", "move", "merge", "split", "undo"]

    with session_scope(h.url) as s:
        gained = dict(s.execute(text("SELECT case_id, grid_code FROM case_grid")).all())
        assert gained[case_moved] == y and gained[case_merged] == z
        kept = dict(s.execute(text("SELECT id, grid_code FROM case_report")).all())
        assert kept[case_moved] == x and kept[case_merged] == w  # the case keeps its own code
        assert s.execute(text("SELECT grid_code FROM grid_assignment WHERE id = :a"), {"a": a_w}).scalar() == z
        assert s.execute(text("SELECT grid_code FROM grid_responsibility WHERE id = :u"), {"u": unit_w}).scalar() == w
        status = dict(s.execute(text("SELECT name, status FROM plan")).all())
    assert status[PLAN] == "retired" and status[DRAFT] == "published"
    assert person_w


def test_cli_diff_impact_history(helsinki: Helsinki) -> None:
    ok("plan", "copy", PLAN, DRAFT)
    out = ok("plan", "diff", PLAN, DRAFT, "--json").stdout
    d = json.loads(out)
    assert d["summary"]["unchanged"] == len(helsinki.grids) and d["summary"]["reshaped"] == 0
    assert "unchanged" in ok("plan", "diff", PLAN, DRAFT).output
    impact = json.loads(ok("plan", "impact", DRAFT, "--json").stdout)
    assert impact["against"]["name"] == PLAN and impact["cases"] == []
    history = ok("plan", "history", PLAN).output
    assert "imported from OSM city blocks" in history
