"""Every edit operation and every refusal through the API, on the checkerboard whose blocks are all known."""

from __future__ import annotations

import math

import shapely
from sqlalchemy import text

from geogrid.store.db import session_scope
from tests.planner.conftest import (
    EAST,
    PUBLISHED,
    WEST,
    auth,
    block_at,
    block_ids,
    build_checkerboard,
    geojson,
    grid_geoms,
    grid_square,
    lonlat,
    square,
)

DRAFT = "棋盘-2027"


def copy(client, board, name: str = DRAFT) -> dict:
    r = client.post(f"/v1/plans/{PUBLISHED}/copy", json={"name": name}, headers=auth(board.planner_key))
    assert r.status_code == 201, r.text
    return r.json()


def edit(client, board, body: dict, expect: int = 200, plan: str = DRAFT) -> dict:
    r = client.post(f"/v1/plans/{plan}/edits", json=body, headers=auth(board.planner_key))
    assert r.status_code == expect, r.text
    return r.json()


def codes_of(answer: dict) -> set[str]:
    return {f["properties"]["code"] for f in answer["changed"]["features"]}


def area(answer: dict, code: str) -> float:
    return next(f["properties"]["area_m2"] for f in answer["changed"]["features"] if f["properties"]["code"] == code)


def same(a, b, tol: float = 0.05) -> bool:
    return shapely.area(shapely.symmetric_difference(a, b)) < tol


def test_copy_makes_a_draft_with_its_blocks_and_checks(board, client) -> None:
    answer = copy(client, board)
    assert answer["status"] == "draft" and answer["copied_from"] == PUBLISHED and answer["blocks"] == 24
    checks = answer["checks"]
    assert checks["grids"] == 6 and checks["coverage"]["ratio"] == 1.0
    assert checks["overlaps"]["count"] == 0 and checks["gaps"]["count"] == 0 and checks["crossings"]["count"] == 0
    assert checks["size"]["tiers"]["A"]["area"]["cv"] == 0.0 and checks["diameter"]["over_cap"] == []
    assert grid_geoms(board.url, DRAFT).keys() == grid_geoms(board.url, PUBLISHED).keys()

    again = client.post(f"/v1/plans/{PUBLISHED}/copy", json={"name": DRAFT}, headers=auth(board.planner_key))
    assert again.status_code == 409 and "exists already" in again.json()["message"]
    nameless = client.post(f"/v1/plans/{PUBLISHED}/copy", json={}, headers=auth(board.planner_key))
    assert nameless.status_code == 422 and nameless.json()["details"][0]["field"] == "name"
    missing = client.post("/v1/plans/nope/copy", json={"name": "x"}, headers=auth(board.planner_key))
    assert missing.status_code == 404
    assert client.post(f"/v1/plans/{PUBLISHED}/copy", json={"name": "y"}).status_code == 401
    assert (
        client.post(f"/v1/plans/{PUBLISHED}/copy", json={"name": "y"}, headers=auth(board.reporter_key)).status_code
        == 403
    )


def test_move_a_block_to_the_neighbour_and_undo_redo(board, client) -> None:
    copy(client, board)
    with session_scope(board.url) as s:
        block = block_at(s, DRAFT, 500_150, 3_380_250)  # west grid 001's south-east block, next to grid 002
    answer = edit(client, board, {"op": "move", "blocks": [block], "to": f"{WEST}002"})
    assert codes_of(answer) == {f"{WEST}001", f"{WEST}002"} and answer["removed"] == []
    assert abs(area(answer, f"{WEST}002") - 50_000) < 0.1 and abs(area(answer, f"{WEST}001") - 30_000) < 0.1
    assert answer["checks"]["coverage"]["ratio"] == 1.0 and answer["checks"]["blocking"] == []
    assert answer["edit"]["actor"] == "planner-1" and answer["can_undo"] and not answer["can_redo"]
    grids = grid_geoms(board.url, DRAFT)
    assert same(grids[f"{WEST}002"], grid_square(f"{WEST}002").union(square(1, 2, 2, 3)))

    undone = client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key)).json()
    assert abs(area(undone, f"{WEST}002") - 40_000) < 0.1 and undone["can_redo"]
    assert same(grid_geoms(board.url, DRAFT)[f"{WEST}002"], grid_square(f"{WEST}002"))
    with session_scope(board.url) as s:
        assert block in block_ids(s, DRAFT, f"{WEST}001")  # the block keeps its id through undo
    redone = client.post(f"/v1/plans/{DRAFT}/redo", headers=auth(board.planner_key)).json()
    assert abs(area(redone, f"{WEST}002") - 50_000) < 0.1 and not redone["can_redo"]

    client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key))
    edit(client, board, {"op": "set", "code": f"{WEST}001", "name": "新名"})  # a new edit ends the redo stack
    assert client.post(f"/v1/plans/{DRAFT}/redo", headers=auth(board.planner_key)).status_code == 409
    client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key))
    nothing = client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key))
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["message"]

    journal = client.get(f"/v1/plans/{DRAFT}/edits", headers=auth(board.planner_key)).json()["edits"]
    ops = [(e["op"], e["state"]) for e in reversed(journal)]
    assert ops[:3] == [("copy", "log"), ("move", "discarded"), ("undo", "log")]
    assert all(e["actor"] == "planner-1" and e["created_at"] for e in journal)


def test_crossing_a_community_is_refused_unless_forced(board, client) -> None:
    copy(client, board)
    before = grid_geoms(board.url, DRAFT)
    with session_scope(board.url) as s:
        block = block_at(s, DRAFT, 500_350, 3_380_350)  # west grid 002, next to the east community
    refused = client.post(
        f"/v1/plans/{DRAFT}/edits",
        json={"op": "move", "blocks": [block], "to": f"{EAST}001"},
        headers=auth(board.planner_key),
    )
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "conflict" and body["breaks"][0]["rule"] == "community"
    assert body["breaks"][0]["code"] == f"{EAST}001" and "outside its community" in body["message"]
    after = grid_geoms(board.url, DRAFT)
    assert all(same(before[c], after[c], 1e-6) for c in before)  # nothing changed

    merged = client.post(
        f"/v1/plans/{DRAFT}/edits",
        json={"op": "merge", "codes": [f"{WEST}002", f"{EAST}001"]},
        headers=auth(board.planner_key),
    )
    assert merged.status_code == 409 and merged.json()["breaks"][0]["rule"] == "community"

    forced = edit(client, board, {"op": "move", "blocks": [block], "to": f"{EAST}001", "force": True})
    assert forced["edit"]["forced"] and forced["checks"]["crossings"]["count"] == 1
    assert forced["checks"]["crossings"]["items"][0]["code"] == f"{EAST}001"
    assert any("cross their community" in b for b in forced["checks"]["blocking"])


def test_merge_two_grids(board, client) -> None:
    copy(client, board)
    answer = edit(client, board, {"op": "merge", "codes": [f"{WEST}003", f"{WEST}004"]})
    assert answer["removed"] == [f"{WEST}004"] and abs(area(answer, f"{WEST}003") - 80_000) < 0.1
    grids = grid_geoms(board.url, DRAFT)
    assert f"{WEST}004" not in grids and same(grids[f"{WEST}003"], square(0, 0, 4, 2))
    assert answer["checks"]["grids"] == 5 and answer["checks"]["contiguity"]["split_grids"] == []
    undone = client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key)).json()
    assert undone["removed"] == [] and {f"{WEST}003", f"{WEST}004"} <= codes_of(undone)
    assert same(grid_geoms(board.url, DRAFT)[f"{WEST}004"], grid_square(f"{WEST}004"))


def test_split_snaps_to_a_street_and_cuts_across_blocks(board, client) -> None:
    copy(client, board)
    near_street = shapely.LineString([(500_104, 3_380_190), (500_104, 3_380_410)])  # 4 m east of the x=100 street
    answer = edit(client, board, {"op": "split", "code": f"{WEST}001", "line": geojson(near_street)})
    assert answer["edit"]["summary"]["new"] == [f"{WEST}005"] and answer["edit"]["summary"]["cut_blocks"] == 0
    grids = grid_geoms(board.url, DRAFT)
    halves = {
        same(grids[c], square(0, 2, 1, 4)) or same(grids[c], square(1, 2, 2, 4)) for c in (f"{WEST}001", f"{WEST}005")
    }
    assert halves == {True}  # the border is the street, not the drawn line

    diagonal = shapely.LineString([(500_430, 3_379_990), (500_570, 3_380_210)])  # through the middle of blocks
    cut = edit(client, board, {"op": "split", "code": f"{EAST}002", "line": geojson(diagonal)})
    assert cut["edit"]["summary"]["cut_blocks"] >= 2
    new = cut["edit"]["summary"]["new"][0]
    grids = grid_geoms(board.url, DRAFT)
    assert abs(grids[f"{EAST}002"].area + grids[new].area - 40_000) < 0.1
    assert grids[f"{EAST}002"].area > 15_000 and grids[new].area > 15_000
    inside = shapely.intersection(grid_square(f"{EAST}002"), diagonal)
    border = shapely.intersection(grids[new].boundary, grids[f"{EAST}002"].boundary)
    on_line = shapely.length(shapely.intersection(border, inside.buffer(0.01)))
    assert on_line > 0.5 * inside.length  # through the blocks, the new border is the drawn line …
    assert shapely.hausdorff_distance(border, inside) < 15.5  # … and near the streets it snapped to them

    off = shapely.LineString([(500_010, 3_379_910), (500_190, 3_379_950)])  # south of the district
    miss = client.post(
        f"/v1/plans/{DRAFT}/edits",
        json={"op": "split", "code": f"{WEST}003", "line": geojson(off)},
        headers=auth(board.planner_key),
    )
    assert miss.status_code == 422 and miss.json()["details"][0]["field"] == "line"


def test_geometry_move_snaps_whole_blocks_and_cuts_deep_ones(board, client) -> None:
    copy(client, board)
    rough = square(1.03, 2.03, 1.97, 2.97)  # the south-east block of west 001, drawn 3 m inside its streets
    answer = edit(client, board, {"op": "move", "geometry": geojson(rough), "to": f"{WEST}002"})
    assert answer["edit"]["summary"]["blocks"] == 1 and abs(area(answer, f"{WEST}002") - 50_000) < 0.1
    client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key))

    deep = shapely.box(500_350, 3_380_150, 500_399, 3_380_250)  # cuts a block of west 002 at x = 350 and y = 250
    answer = edit(client, board, {"op": "move", "geometry": geojson(deep), "to": f"{WEST}004"})
    assert abs(area(answer, f"{WEST}004") - 42_500) < 0.5 and abs(area(answer, f"{WEST}002") - 37_500) < 0.5
    assert answer["edit"]["summary"]["blocks"] == 1
    grids = grid_geoms(board.url, DRAFT)
    assert same(
        grids[f"{WEST}004"], grid_square(f"{WEST}004").union(shapely.box(500_350, 3_380_200, 500_400, 3_380_250)), 0.5
    )


def test_land_outside_the_jurisdiction_is_refused_and_a_gap_can_be_filled(store_url, client) -> None:
    board = build_checkerboard(store_url, width=7)  # the district reaches 100 m east of the grids: a gap
    copy(client, board)
    first = client.get(f"/v1/plans/{DRAFT}/checks", headers=auth(board.planner_key)).json()["checks"]
    assert first["gaps"]["count"] == 1 and abs(first["gaps"]["area_m2"] - 40_000) < 1
    assert abs(first["coverage"]["ratio"] - 24 / 28) < 1e-4

    fill = shapely.box(500_550, 3_380_200, 500_700, 3_380_400)  # reaches the district's edge at x = 700
    answer = edit(client, board, {"op": "move", "geometry": geojson(fill), "to": f"{EAST}001"})
    assert answer["edit"]["summary"]["annexed"] and abs(area(answer, f"{EAST}001") - 60_000) < 0.5
    assert answer["checks"]["gaps"]["count"] == 1 and abs(answer["checks"]["gaps"]["area_m2"] - 20_000) < 1
    assert abs(answer["checks"]["coverage"]["ratio"] - 26 / 28) < 1e-4

    beyond = shapely.box(500_650, 3_379_950, 500_800, 3_380_150)
    refused = client.post(
        f"/v1/plans/{DRAFT}/edits",
        json={"op": "move", "geometry": geojson(beyond), "to": f"{EAST}002"},
        headers=auth(board.planner_key),
    )
    assert refused.status_code == 409 and refused.json()["breaks"][0]["rule"] == "jurisdiction"
    forced = edit(client, board, {"op": "move", "geometry": geojson(beyond), "to": f"{EAST}002", "force": True})
    assert forced["checks"]["outside_jurisdiction"]["count"] == 1
    assert forced["checks"]["outside_jurisdiction"]["items"][0]["code"] == f"{EAST}002"
    undone = client.post(f"/v1/plans/{DRAFT}/undo", headers=auth(board.planner_key)).json()
    assert (
        undone["checks"]["outside_jurisdiction"]["count"] == 0
        and abs(undone["checks"]["coverage"]["ratio"] - 26 / 28) < 1e-4
    )


def test_recode_and_set(board, client) -> None:
    copy(client, board)
    line = shapely.LineString([(500_100, 3_380_190), (500_100, 3_380_410)])
    edit(client, board, {"op": "split", "code": f"{WEST}001", "line": geojson(line), "codes": ["临时码"]})
    answer = edit(client, board, {"op": "recode"})
    grids = grid_geoms(board.url, DRAFT)
    order = sorted((c for c in grids if c.startswith(WEST)), key=lambda c: c[-3:])
    expected = [
        square(0, 2, 1, 4),
        square(1, 2, 2, 4),
        grid_square(f"{WEST}002"),
        square(0, 0, 2, 2),
        square(2, 0, 4, 2),
    ]
    assert [same(grids[c], e) for c, e in zip(order, expected, strict=True)] == [True] * 5
    assert "临时码" in answer["edit"]["summary"]["renamed"]
    again = client.post(f"/v1/plans/{DRAFT}/edits", json={"op": "recode"}, headers=auth(board.planner_key))
    assert again.status_code == 422  # already in order

    bad = client.post(
        f"/v1/plans/{DRAFT}/edits",
        json={"op": "set", "code": f"{EAST}001", "tier": "Z"},
        headers=auth(board.planner_key),
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "tier"
    answer = edit(client, board, {"op": "set", "code": f"{EAST}001", "tier": "A", "name": "球场一网格"})
    props = answer["changed"]["features"][0]["properties"]
    assert (props["tier"], props["name"]) == ("A", "球场一网格")
    assert answer["checks"]["size"]["tiers"]["A"]["grids"] == 4  # the two halves of 001, 002 and this one


def test_bad_requests_name_the_field(board, client) -> None:
    copy(client, board)
    key = auth(board.planner_key)
    cases = [
        ({}, "op"),
        ({"op": "paint"}, "op"),
        ({"op": "move", "to": f"{WEST}002"}, "blocks"),
        ({"op": "move", "blocks": [1], "geometry": {"type": "Point", "coordinates": [0, 0]}, "to": "x"}, "blocks"),
        ({"op": "move", "blocks": [999_999], "to": f"{WEST}002"}, "blocks"),
        ({"op": "move", "blocks": ["a"], "to": f"{WEST}002"}, "blocks"),
        ({"op": "move", "geometry": {"type": "Point", "coordinates": [114.0, 30.5]}, "to": f"{WEST}002"}, "geometry"),
        ({"op": "merge", "codes": [f"{WEST}001"]}, "codes"),
        ({"op": "merge", "codes": [f"{WEST}001", "nope"]}, "codes"),
        (
            {
                "op": "split",
                "code": "nope",
                "line": {"type": "LineString", "coordinates": [[114, 30.5], [114.1, 30.5]]},
            },
            "code",
        ),
        (
            {
                "op": "split",
                "code": f"{WEST}001",
                "line": {"type": "LineString", "coordinates": [[114, 95], [114, 96]]},
            },
            "line",
        ),
        ({"op": "set", "code": f"{WEST}001"}, "op"),
        ({"op": "set", "code": f"{WEST}001", "name": "x", "force": "yes"}, "force"),
    ]
    for body, field in cases:
        r = client.post(f"/v1/plans/{DRAFT}/edits", json=body, headers=key)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["details"][0]["field"] == field, (body, r.json())
    with session_scope(board.url) as s:
        block = block_ids(s, DRAFT, f"{WEST}002")[0]
    moved_to_self = client.post(
        f"/v1/plans/{DRAFT}/edits", json={"op": "move", "blocks": [block], "to": f"{WEST}002"}, headers=key
    )
    assert moved_to_self.status_code == 422
    published = client.post(f"/v1/plans/{PUBLISHED}/edits", json={"op": "recode"}, headers=key)
    assert published.status_code == 409 and "copy it first" in published.json()["message"]
    assert client.post("/v1/plans/nope/edits", json={"op": "recode"}, headers=key).status_code == 404
    assert client.post(f"/v1/plans/{DRAFT}/edits", json={"op": "recode"}).status_code == 401
    with session_scope(board.url) as s:
        edits = s.execute(
            text(
                "SELECT count(*) FROM plan_edit e JOIN plan p ON p.id = e.plan_id WHERE p.name = :p AND e.op <> 'copy'"
            ),
            {"p": DRAFT},
        ).scalar()
    assert edits == 0  # nothing refused was journaled


def test_lasso_selects_blocks_mostly_inside(board, client) -> None:
    copy(client, board)
    lasso = square(0.2, 2.1, 1.9, 2.95)  # 68 % and 76 % of the two south blocks of west 001, nothing of others
    r = client.post(
        f"/v1/plans/{DRAFT}/blocks/select", json={"geometry": geojson(lasso)}, headers=auth(board.planner_key)
    )
    assert r.status_code == 200
    with session_scope(board.url) as s:
        expected = sorted([block_at(s, DRAFT, 500_050, 3_380_250), block_at(s, DRAFT, 500_150, 3_380_250)])
    assert r.json()["blocks"] == expected and r.json()["grids"] == [f"{WEST}001"]
    x0, y0 = lonlat(500_000, 3_380_000)
    x1, y1 = lonlat(500_600, 3_380_400)
    listed = client.get(f"/v1/plans/{DRAFT}/blocks?bbox={x0},{y0},{x1},{y1}", headers=auth(board.planner_key))
    assert listed.status_code == 200 and len(listed.json()["features"]) == 24


def test_road_and_block_tiles_and_the_plan_list(board, client) -> None:
    import mapbox_vector_tile

    copy(client, board)
    lon, lat = lonlat(500_150, 3_380_250)  # the tile holding west 001's south-east block
    z = 16
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    roads = client.get(f"/v1/plans/{PUBLISHED}/tiles/roads/{z}/{x}/{y}.mvt")  # a published plan's roads are public
    assert roads.status_code == 200 and roads.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(roads.content)["roads"]
    assert len(layer["features"]) >= 3 and {f["properties"]["road_class"] for f in layer["features"]} <= {1, 2, 3}
    assert client.get(f"/v1/plans/{DRAFT}/tiles/roads/{z}/{x}/{y}.mvt").status_code == 401
    blocks = client.get(f"/v1/plans/{DRAFT}/tiles/blocks/{z}/{x}/{y}.mvt", headers=auth(board.planner_key))
    ids = {f["properties"]["id"] for f in mapbox_vector_tile.decode(blocks.content)["blocks"]["features"]}
    with session_scope(board.url) as s:
        assert block_at(s, DRAFT, 500_150, 3_380_250) in ids
    assert client.get(f"/v1/plans/{DRAFT}/tiles/blocks/{z}/{x}/{y}.mvt").status_code == 401
    assert client.get(f"/v1/plans/{DRAFT}/tiles/streets/{z}/{x}/{y}.mvt").status_code == 404
    listed = client.get("/v1/plans", headers=auth(board.planner_key)).json()["plans"]
    assert {p["name"] for p in listed} == {PUBLISHED, DRAFT}
    assert {p["name"] for p in client.get("/v1/plans").json()["plans"]} == {PUBLISHED}  # drafts for planners only
    grids = client.get(f"/v1/plans/{PUBLISHED}/grids").json()["grids"]
    assert len(grids) == 6 and all(-180 < g["lon"] < 180 and g["community_code"] for g in grids)
    assert client.get(f"/v1/plans/{DRAFT}/grids").status_code == 401


def test_an_imported_draft_is_prepared_on_its_first_edit(board, client) -> None:
    import geopandas as gpd

    from geogrid.store.plans import save_draft_plan
    from tests.planner.conftest import GK, GRID_CELLS

    with session_scope(board.url) as s:
        frame = gpd.GeoDataFrame(
            {"code": list(GRID_CELLS), "community_code": [c[:12] for c in GRID_CELLS]},
            geometry=[grid_square(c) for c in GRID_CELLS],
            crs=GK,
        )
        save_draft_plan(s, frame, layer="unit", plan="导入草案")  # as `geogrid import grids` stores one: no roads
    answer = edit(client, board, {"op": "merge", "codes": [f"{WEST}001", f"{WEST}002"]}, plan="导入草案")
    assert answer["removed"] == [f"{WEST}002"] and abs(area(answer, f"{WEST}001") - 80_000) < 0.5
    with session_scope(board.url) as s:
        n = s.execute(
            text("SELECT count(*) FROM plan_block b JOIN plan p ON p.id = b.plan_id WHERE p.name = '导入草案'")
        ).scalar()
    assert n == 6  # no roads: one block per grid (the two merged keep theirs)
