"""Property: every locate answer equals a brute-force shapely ``covers`` over the published grids.

The documented tie-break (lowest code among covering polygons) is applied to the brute force too. Points are drawn
uniformly around the district, exactly on lattice vertices (shared by up to four grids), on the district's outer
border, and along shared edges (interpolated, so on or within an ulp of the border).
"""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from geogrid.routing.index import build_snapshot
from geogrid.store.db import get_engine
from tests.locate.conftest import STEP, X0, Y0, N, brute_force


def published(url: str) -> dict[str, tuple[list, list[str]]]:
    """Geometries as PostGIS holds them (the source of truth), per layer, plus admin communities."""
    out: dict[str, tuple[list, list[str]]] = {}
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT l.name, g.code, ST_AsBinary(g.geom) FROM grid g JOIN plan p ON p.id = g.plan_id "
                "JOIN grid_layer l ON l.id = p.layer_id WHERE p.status = 'published'"
            )
        ).all()
        areas = conn.execute(text("SELECT code, ST_AsBinary(geom) FROM admin_area WHERE level = 'community'")).all()
    for layer, code, wkb in rows:
        geoms, codes = out.setdefault(layer, ([], []))
        geoms.append(shapely.from_wkb(bytes(wkb)))
        codes.append(code)
    out["@community"] = ([shapely.from_wkb(bytes(w)) for _, w in areas], [c for c, _ in areas])
    return out


def grid_communities(url: str) -> dict[str, str]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT g.code, a.code FROM grid g JOIN admin_area a ON a.id = g.community_id")).all()
    return dict(rows)


@pytest.fixture
def truth(jurisdiction):
    data = published(jurisdiction.url)
    return {**data, "@grid_community": grid_communities(jurisdiction.url)}


@pytest.fixture
def snapshot(jurisdiction):
    return build_snapshot(jurisdiction.url)


def point_strategy(truth_vertices: np.ndarray, edges: np.ndarray):
    lo_x, lo_y, hi_x, hi_y = X0 - STEP, Y0 - STEP, X0 + (N + 1) * STEP, Y0 + (N + 1) * STEP
    uniform = st.tuples(st.floats(lo_x, hi_x), st.floats(lo_y, hi_y))
    vertex = st.sampled_from([tuple(v) for v in truth_vertices])
    on_edge = st.tuples(st.integers(0, len(edges) - 1), st.floats(0, 1)).map(
        lambda e: tuple(edges[e[0], 0] + e[1] * (edges[e[0], 1] - edges[e[0], 0]))
    )
    outer = st.one_of(
        st.floats(Y0, Y0 + N * STEP).map(lambda y: (X0, y)),
        st.floats(X0, X0 + N * STEP).map(lambda x: (x, Y0 + N * STEP)),
    )
    return st.one_of(uniform, vertex, on_edge, outer)


def _vertices_and_edges(truth) -> tuple[np.ndarray, np.ndarray]:
    geoms, _ = truth["responsibility"]
    rings = [np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(g.geoms[0]))) for g in geoms]
    vertices = np.unique(np.concatenate([r[:-1] for r in rings]), axis=0)
    edges = np.concatenate([np.stack([r[:-1], r[1:]], axis=1) for r in rings])
    return vertices, edges


def _expected(truth, x: float, y: float) -> dict[str, str | None]:
    """Brute force per layer; the community is the grid's own when a grid covers the point (documented rule)."""
    want = {name: brute_force(*sets, x, y) for name, sets in truth.items() if isinstance(sets, tuple)}
    if want["responsibility"] is not None:
        want["@community"] = truth["@grid_community"][want["responsibility"]]
    return want


def test_single_lookup_equals_brute_force_covers(truth, snapshot) -> None:
    vertices, edges = _vertices_and_edges(truth)

    @settings(max_examples=400, deadline=None)
    @given(point_strategy(vertices, edges))
    def check(pt) -> None:
        x, y = pt
        want = _expected(truth, x, y)
        got = snapshot.locate_one(x, y)
        for layer in ("responsibility", "selfgov"):
            assert (got["layers"][layer] or {}).get("code") == want[layer], (x, y, layer)
        assert (got["grid"] or {}).get("code") == want["responsibility"]
        assert (got["community"] or {}).get("code") == want["@community"]
        if got["community"] is not None:
            assert got["street"]["code"] == got["community"]["code"][:9]
            assert got["district"]["code"] == "520102"
        assert got["outside"] == (want["responsibility"] is None and got["district"] is None)

    check()


def test_batch_lookup_equals_brute_force_covers(truth, snapshot) -> None:
    vertices, edges = _vertices_and_edges(truth)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(point_strategy(vertices, edges), min_size=1, max_size=200))
    def check(pts) -> None:
        arr = np.array(pts, dtype=float)
        results = orjson.loads(snapshot.batch_json(arr[:, 0].copy(), arr[:, 1].copy()))
        assert len(results) == len(pts)
        for (x, y), res in zip(pts, results, strict=True):
            want = _expected(truth, x, y)
            assert res["grid"] == want["responsibility"]
            assert res["grids"] == {"responsibility": want["responsibility"], "selfgov": want["selfgov"]}
            assert res["community"] == want["@community"]

    check()


def test_every_vertex_through_the_http_batch(client, truth) -> None:
    """All lattice vertices (the hardest points) through the real endpoint, in one request."""
    vertices, _ = _vertices_and_edges(truth)
    r = client.post("/v1/locate/batch", json=vertices.tolist())
    assert r.status_code == 200
    got = [x["grid"] for x in r.json()["results"]]
    assert got == [_expected(truth, x, y)["responsibility"] for x, y in vertices]
    shared = sum(1 for x, y in vertices if sum(g.covers(shapely.Point(x, y)) for g in truth["responsibility"][0]) > 1)
    assert shared > 20  # most vertices sit on 2–4 grids: the tie-break was exercised


def test_http_single_point_equals_brute_force(client, truth) -> None:
    """The same property through ``GET /v1/locate`` (parsing, CRS handling, serialisation included)."""
    vertices, edges = _vertices_and_edges(truth)

    @settings(max_examples=80, deadline=None)
    @given(point_strategy(vertices, edges))
    def check(pt) -> None:
        x, y = pt
        body = client.get("/v1/locate", params={"lon": repr(float(x)), "lat": repr(float(y))}).json()
        want = _expected(truth, x, y)
        assert (body["grid"] or {}).get("code") == want["responsibility"]
        assert (body["layers"]["selfgov"] or {}).get("code") == want["selfgov"]
        assert (body["community"] or {}).get("code") == want["@community"]

    check()
