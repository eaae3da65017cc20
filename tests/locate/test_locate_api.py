"""GET /v1/locate and POST /v1/locate/batch against a published plan in a real PostGIS."""

from __future__ import annotations

import numpy as np
import shapely

from geogrid import crs
from tests.locate.conftest import brute_force


def _centroid(g) -> tuple[float, float]:
    p = g.geom.representative_point()
    return p.x, p.y


def test_locate_returns_grid_layers_and_admin_chain(client, jurisdiction) -> None:
    target = jurisdiction.grids[10]
    x, y = _centroid(target)
    r = client.get("/v1/locate", params={"lon": x, "lat": y})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outside"] is False
    assert body["grid"]["code"] == target.code
    assert body["grid"]["tier"] == target.tier
    assert body["grid"]["plan"] == {"name": "resp-v1", "version": 1}
    assert body["layers"]["responsibility"]["code"] == target.code
    assert body["layers"]["selfgov"]["code"] == target.community + "900"
    assert body["community"]["code"] == target.community
    assert body["street"]["code"] == target.community[:9]
    assert body["district"]["code"] == "520102"


def test_layer_parameter_picks_the_reported_grid(client, jurisdiction) -> None:
    x, y = _centroid(jurisdiction.grids[0])
    r = client.get("/v1/locate", params={"lon": x, "lat": y, "layer": "selfgov"})
    assert r.json()["grid"]["code"] == jurisdiction.grids[0].community + "900"
    bad = client.get("/v1/locate", params={"lon": x, "lat": y, "layer": "nope"})
    assert bad.status_code == 422
    assert bad.json()["details"][0]["field"] == "layer"


def test_outside_the_jurisdiction_is_200_with_null_grid(client) -> None:
    r = client.get("/v1/locate", params={"lon": 116.4, "lat": 39.9})
    assert r.status_code == 200
    body = r.json()
    assert body["outside"] is True
    assert body["grid"] is None
    assert body["layers"] == {"responsibility": None, "selfgov": None}
    assert body["district"] is None


def test_bad_coordinates_are_422_naming_the_field(client) -> None:
    cases = [
        ({"lon": "abc", "lat": 26.57}, "lon", "not a number"),
        ({"lon": 106.7, "lat": 95}, "lat", "outside"),
        ({"lon": 181, "lat": 26.57}, "lon", "outside"),
        ({"lon": "nan", "lat": 26.57}, "lon", "finite"),
        ({"lon": 106.7, "lat": 26.57, "crs": "EPSG:999999"}, "crs", "unknown CRS"),
        ({"lon": 106.7, "lat": 26.57, "crs": "mars2000"}, "crs", "unknown CRS"),
        ({"lat": 26.57}, "lon", "required"),
    ]
    for params, field, reason in cases:
        r = client.get("/v1/locate", params=params)
        assert r.status_code == 422, (params, r.text)
        body = r.json()
        assert body["error"] == "invalid_input"
        assert body["details"][0]["field"] == field, body
        assert reason.lower() in body["details"][0]["reason"].lower(), body


def test_offset_coordinates_land_in_the_wgs84_grid(client, jurisdiction) -> None:
    """A phone's GCJ-02 / BD-09 fix must answer the grid of the true position, not the one 500 m away."""
    checked = 0
    for g in jurisdiction.grids:
        x, y = _centroid(g)
        gx, gy = crs.wgs84_to_gcj02(x, y)
        bx, by = crs.wgs84_to_bd09(x, y)
        wrong = brute_force([h.geom for h in jurisdiction.grids], [h.code for h in jurisdiction.grids], gx, gy)
        if wrong == g.code:
            continue  # the raw offset happens to stay in the grid; not a discriminating case
        checked += 1
        assert client.get("/v1/locate", params={"lon": gx, "lat": gy, "crs": "gcj02"}).json()["grid"]["code"] == g.code
        assert client.get("/v1/locate", params={"lon": bx, "lat": by, "crs": "BD09"}).json()["grid"]["code"] == g.code
        as_wgs84 = client.get("/v1/locate", params={"lon": gx, "lat": gy}).json()["grid"]
        assert (as_wgs84 or {}).get("code") == wrong  # taken literally, the offset fix answers the wrong grid
    assert checked >= 5


def test_projected_epsg_input(client, jurisdiction) -> None:
    from pyproj import Transformer

    x, y = _centroid(jurisdiction.grids[20])
    e, n = Transformer.from_crs(4490, 4545, always_xy=True).transform(x, y)  # CGCS2000 GK CM 108E
    r = client.get("/v1/locate", params={"lon": e, "lat": n, "crs": "EPSG:4545"})
    assert r.status_code == 200, r.text
    assert r.json()["grid"]["code"] == jurisdiction.grids[20].code


def test_batch_formats_answer_in_input_order(client, jurisdiction) -> None:
    rng = np.random.default_rng(3)
    pts = np.column_stack([rng.uniform(106.68, 106.72, 500), rng.uniform(26.55, 26.59, 500)])
    codes = [g.code for g in jurisdiction.grids]
    geoms = [g.geom for g in jurisdiction.grids]
    expected = [brute_force(geoms, codes, x, y) for x, y in pts]
    assert any(e is None for e in expected) and any(e is not None for e in expected)

    as_pairs = client.post("/v1/locate/batch", json=pts.tolist())
    as_objects = client.post("/v1/locate/batch", json=[{"lon": x, "lat": y} for x, y in pts])
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"i": i}, "geometry": {"type": "Point", "coordinates": [x, y]}}
            for i, (x, y) in enumerate(pts)
        ],
    }
    as_geojson = client.post("/v1/locate/batch", json=fc)
    for r in (as_pairs, as_objects, as_geojson):
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == 500
        assert body["layers"] == ["responsibility", "selfgov"]
        assert [x["grid"] for x in body["results"]] == expected
        assert [x["grids"]["responsibility"] for x in body["results"]] == expected
        assert [x["outside"] for x in body["results"]] == [e is None for e in expected]
        inside = [x for x, e in zip(body["results"], expected, strict=True) if e]
        assert all(x["community"] == x["grid"][:12] and x["district"] == "520102" for x in inside)


def test_batch_offset_crs_matches_single(client, jurisdiction) -> None:
    pts = [_centroid(g) for g in jurisdiction.grids[:8]]
    gcj = [list(crs.wgs84_to_gcj02(x, y)) for x, y in pts]
    r = client.post("/v1/locate/batch", params={"crs": "gcj02"}, json=gcj)
    assert [x["grid"] for x in r.json()["results"]] == [g.code for g in jurisdiction.grids[:8]]
    r2 = client.post("/v1/locate/batch", json={"crs": "gcj02", "points": gcj})
    assert r2.json()["results"] == r.json()["results"]


def test_batch_errors_name_the_point(client) -> None:
    cases = [
        ([[106.7, 26.57], [106.7]], "points[1]"),
        ([[106.7, 26.57], ["x", 26.5]], "points[1]"),
        ([[106.7, 26.57], [106.7, 26.57], [200, 26.57]], "points[2]"),
        ([{"lon": 106.7, "lat": 26.57}, {"lon": 106.7}], "points[1]"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]}, "features[0].geometry"),
        ({"what": 1}, "body"),
    ]
    for payload, field in cases:
        r = client.post("/v1/locate/batch", json=payload)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["details"][0]["field"] == field, r.json()
    r = client.post("/v1/locate/batch", content=b"[[1,2],", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body"


def test_batch_limit_is_100000_points(client, jurisdiction) -> None:
    pts = np.tile([[106.70, 26.57]], (100_001, 1)).tolist()
    r = client.post("/v1/locate/batch", json=pts)
    assert r.status_code == 413
    assert r.json()["details"][0]["field"] == "points"
    ok = client.post("/v1/locate/batch", json=pts[:100_000])
    assert ok.status_code == 200
    results = ok.json()["results"]
    assert len(results) == 100_000
    x, y = 106.70, 26.57
    expected = brute_force([g.geom for g in jurisdiction.grids], [g.code for g in jurisdiction.grids], x, y)
    assert results[0]["grid"] == results[-1]["grid"] == expected


def test_point_on_a_shared_vertex_resolves_to_lowest_code(client, jurisdiction) -> None:
    g = jurisdiction.grids[14]
    vx, vy = shapely.get_coordinates(g.geom)[2]  # an interior lattice vertex shared by four cells
    covering = sorted(h.code for h in jurisdiction.grids if h.geom.covers(shapely.Point(vx, vy)))
    assert len(covering) >= 2
    assert client.get("/v1/locate", params={"lon": vx, "lat": vy}).json()["grid"]["code"] == covering[0]
