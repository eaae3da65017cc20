"""The live checks kept edit by edit equal a recomputation from scratch; diff and lineage on known edits."""

from __future__ import annotations

import shapely
from sqlalchemy import text

from geogrid.planner import edits
from geogrid.planner.checks import initial_state, summary
from geogrid.planner.diff import diff
from geogrid.planner.drafts import copy_plan, get_plan
from geogrid.store.db import session_scope
from geogrid.validation import build_report
from tests.planner.conftest import EAST, PUBLISHED, WEST, block_at, build_checkerboard, geojson, square

DRAFT = "棋盘-2027"
ACTOR = ("tester", None)


def _edit(url: str, body: dict) -> dict:
    with session_scope(url) as s:
        return edits.edit(s, DRAFT, body, ACTOR)


def _fresh(url: str) -> tuple[dict, dict]:
    """(the kept summary, a summary from state recomputed from scratch) and validation's report."""
    with session_scope(url) as s:
        plan = get_plan(s, DRAFT)
        srid = s.execute(text("SELECT metric_srid FROM plan_workbench WHERE plan_id = :p"), {"p": plan.id}).scalar()
        kept = edits.checks(s, DRAFT, ACTOR)["checks"]
        recomputed = summary(s, plan.id, initial_state(s, plan.id, srid))
        report = build_report(s, plan)
    return kept, recomputed, report


def test_kept_checks_equal_a_recomputation_after_every_edit(store_url) -> None:
    build_checkerboard(store_url, width=7)
    with session_scope(store_url) as s:
        copy_plan(s, PUBLISHED, DRAFT, ACTOR)
        crossing_block = block_at(s, DRAFT, 500_350, 3_380_350)
    steps = [
        {"op": "move", "geometry": geojson(shapely.box(500_550, 3_380_200, 500_700, 3_380_400)), "to": f"{EAST}001"},
        {"op": "move", "blocks": [crossing_block], "to": f"{EAST}001", "force": True},
        {
            "op": "split",
            "code": f"{EAST}002",
            "line": geojson(shapely.LineString([(500_430, 3_379_990), (500_570, 3_380_210)])),
        },
        {"op": "merge", "codes": [f"{WEST}003", f"{WEST}004"]},
        {
            "op": "move",
            "geometry": geojson(shapely.box(500_650, 3_379_950, 500_800, 3_380_150)),
            "to": f"{EAST}002",
            "force": True,
        },
        {"op": "recode"},
        "undo",
        "undo",
        "redo",
    ]
    for step in steps:
        if step == "undo":
            with session_scope(store_url) as s:
                edits.undo(s, DRAFT, ACTOR)
        elif step == "redo":
            with session_scope(store_url) as s:
                edits.redo(s, DRAFT, ACTOR)
        else:
            _edit(store_url, step)
        kept, recomputed, report = _fresh(store_url)
        assert kept == recomputed, step
        v = report["summary"]
        assert (kept["overlaps"]["count"], kept["gaps"]["count"]) == (v["overlaps"], v["gaps"]), step
        assert kept["crossings"]["count"] == v["crossings"], step
        assert kept["outside_jurisdiction"]["count"] == v["outside_jurisdiction"], step
        assert abs(kept["coverage"]["ratio"] - v["coverage_ratio"]) < 1e-5, step
    # forced: east 001 holds a west block, east 002 land outside the district (outside its community too)
    assert kept["crossings"]["count"] == 2 and kept["outside_jurisdiction"]["count"] == 1


def test_diff_and_lineage_of_known_edits(store_url) -> None:
    build_checkerboard(store_url)
    with session_scope(store_url) as s:
        copy_plan(s, PUBLISHED, DRAFT, ACTOR)
        block = block_at(s, DRAFT, 500_150, 3_380_250)
    _edit(store_url, {"op": "move", "blocks": [block], "to": f"{WEST}002"})  # 10,000 m² from 001 to 002
    _edit(store_url, {"op": "merge", "codes": [f"{EAST}001", f"{EAST}002"]})
    _edit(store_url, {"op": "set", "code": f"{WEST}003", "tier": "A"})
    with session_scope(store_url) as s:
        d = diff(s, PUBLISHED, DRAFT)
    assert d["summary"] == {"added": 0, "removed": 1, "reshaped": 3, "recoded": 0, "unchanged": 2, "attributes": 1}
    assert d["removed"] == [f"{EAST}002"] and d["attributes"] == [{"code": f"{WEST}003", "tier": ["B", "A"]}]
    rows = {(r["from_code"], r["to_code"]): r for r in d["lineage"]}
    moved = rows[(f"{WEST}001", f"{WEST}002")]
    assert abs(moved["shared_area_m2"] - 10_000) < 0.01
    assert abs(moved["share_of_from"] - 0.25) < 1e-6 and abs(moved["share_of_to"] - 0.2) < 1e-6
    assert abs(rows[(f"{WEST}001", f"{WEST}001")]["share_of_from"] - 0.75) < 1e-6
    assert abs(rows[(f"{EAST}002", f"{EAST}001")]["share_of_to"] - 0.5) < 1e-6
    assert len(d["lineage"]) == 7  # no neighbour-along-a-border rows: those share no area
    for code in {r["from_code"] for r in d["lineage"]}:
        assert abs(sum(r["share_of_from"] for r in d["lineage"] if r["from_code"] == code) - 1.0) < 1e-6

    street = shapely.LineString([(500_100, 3_380_190), (500_100, 3_380_410)])
    _edit(store_url, {"op": "split", "code": f"{WEST}001", "line": geojson(street)})
    with session_scope(store_url) as s:
        copy_plan(s, DRAFT, "快照", ACTOR)
    _edit(store_url, {"op": "recode"})
    with session_scope(store_url) as s:
        renumbered = diff(s, "快照", DRAFT)
    assert renumbered["summary"]["added"] == renumbered["summary"]["removed"] == renumbered["summary"]["reshaped"] == 0
    assert renumbered["recoded"] and all(r["from"] != r["to"] for r in renumbered["recoded"])
    assert renumbered["summary"]["recoded"] + renumbered["summary"]["unchanged"] == 6


def test_a_plan_without_roads_has_one_block_per_grid_and_geometry_moves_cut_it(store_url) -> None:
    build_checkerboard(store_url, roads=False)
    with session_scope(store_url) as s:
        copy_plan(s, PUBLISHED, DRAFT, ACTOR)
        assert (
            s.execute(
                text("SELECT count(*) FROM plan_block b JOIN plan p ON p.id = b.plan_id WHERE p.name = :p"),
                {"p": DRAFT},
            ).scalar()
            == 6
        )
    strip = square(1.5, 2.0, 2.2, 4.0)  # the eastern 50 m of west 001, snapped to the grid border at x = 200
    answer = _edit(store_url, {"op": "move", "geometry": geojson(strip), "to": f"{WEST}002"})
    areas = {f["properties"]["code"]: f["properties"]["area_m2"] for f in answer["changed"]["features"]}
    assert abs(areas[f"{WEST}002"] - 50_000) < 0.5 and abs(areas[f"{WEST}001"] - 30_000) < 0.5
    assert answer["checks"]["overlaps"]["count"] == 0 and answer["checks"]["gaps"]["count"] == 0
