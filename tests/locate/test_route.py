"""POST /v1/route: 部件先属主后属地，事件先属地后属主, 属地兜底 up the hierarchy, and time limits."""

from __future__ import annotations

import pytest

from geogrid.routing import route
from geogrid.store.db import session_scope
from tests.locate.conftest import Jurisdiction


def _inside(jurisdiction: Jurisdiction, k: int = 10):
    g = jurisdiction.grids[k]
    p = g.geom.representative_point()
    return g, p.x, p.y


@pytest.fixture
def directory(client, keys, jurisdiction):
    """Owner department, a grid workstation for one grid, and territorial units for its community/street/district."""
    g, _, _ = _inside(jurisdiction)
    h = {"X-API-Key": keys["operator"]}
    units = {}
    for code, name, kind, area in [
        ("cgzf", "城市综合执法大队", "department", None),
        ("ws-1", "网格工作站1", "territorial", None),
        ("sq-1", "社区居委会", "territorial", g.community),
        ("jd-1", "街道办事处", "territorial", g.community[:9]),
        ("qu-1", "区网格化中心", "territorial", "520102"),
    ]:
        payload = {"code": code, "name": name, "kind": kind}
        if area:
            payload["admin_area_code"] = area
        r = client.post("/v1/units", json=payload, headers=h)
        assert r.status_code == 201, r.text
        units[code] = r.json()
    r = client.put(
        "/v1/grid-responsibilities",
        json={"layer": "responsibility", "grid_code": g.code, "unit_code": "ws-1"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    for category, name, owner, level in [
        ("component:01", "公用设施", "cgzf", "grid"),
        ("event:01", "市容环境", "cgzf", "grid"),
        ("event:0101", "私搭乱建", "cgzf", "street"),
        ("事件:05", "突发事件", None, "district"),
    ]:
        body = {"category": category, "name": name, "owner_unit": owner, "territorial_level": level}
        assert client.post("/v1/routing-rules", json=body, headers=h).status_code == 201
    r = client.post(
        "/v1/time-limits", json={"category": "event:0102", "urgency": "urgent", "value": 2, "unit": "hours"}, headers=h
    )
    assert r.status_code == 201, r.text
    return units


def _route(client, x, y, category, **extra):
    r = client.post("/v1/route", json={"lon": x, "lat": y, "category": category, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_event_goes_to_territory_first_component_to_owner_first(client, jurisdiction, directory) -> None:
    g, x, y = _inside(jurisdiction)
    ev = _route(client, x, y, "event:0102", urgency="urgent")
    assert ev["grid_code"] == g.code
    assert ev["unit"]["code"] == "ws-1"
    assert ev["rule"]["basis"] == "territory" and ev["rule"]["level"] == "grid" and ev["rule"]["fallback"] is False
    assert ev["rule"]["principle"] == "事件先属地后属主"
    assert ev["rule"]["rule"]["category"] == "event:01"  # no subclass rule: the class rule applies
    assert ev["time_limit"] == {"value": 2.0, "unit": "hours", "working": True, "source": "store"}
    comp = _route(client, x, y, "部件:0101")
    assert comp["category"] == "component:0101"
    assert comp["unit"]["code"] == "cgzf"
    assert comp["rule"]["basis"] == "owner" and comp["rule"]["principle"] == "部件先属主后属地"


def test_territory_falls_back_up_the_hierarchy(client, jurisdiction, directory, keys) -> None:
    g, x, y = _inside(jurisdiction)
    other = next(o for o in jurisdiction.grids if o.community == g.community and o.code != g.code)
    p = other.geom.representative_point()
    community = _route(client, p.x, p.y, "event:0103")  # a grid with no workstation → the community
    assert community["unit"]["code"] == "sq-1"
    assert community["rule"]["level"] == "community" and community["rule"]["fallback"] is True
    assert community["time_limit"]["source"] == "level default" and community["time_limit"]["value"] == 1
    street = _route(client, x, y, "event:0101")  # the rule starts at street level
    assert street["unit"]["code"] == "jd-1" and street["rule"]["fallback"] is False
    limit = street["time_limit"]
    assert {k: limit[k] for k in ("value", "unit", "working", "source")} == {
        "value": 15.0, "unit": "days", "working": True, "source": "defaults"
    }  # fmt: skip
    assert limit["exempt_from_cap"] is True and limit["exempt_reason"]  # over 5 working days only by a stated rule
    works = _route(client, x, y, "event:0301")  # built-in rule 施工管理 starts at the street; no limit configured
    assert works["unit"]["code"] == "jd-1"
    assert works["time_limit"] == {"value": 2, "unit": "days", "working": True, "source": "level default"}
    far = next(o for o in jurisdiction.grids if o.community[:9] != g.community[:9])
    q = far.geom.representative_point()
    district = _route(client, q.x, q.y, "event:0102")  # another street: no community/street unit → district
    assert district["unit"]["code"] == "qu-1"
    assert district["rule"]["level"] == "district" and district["district"]["code"] == "520102"
    # a component with no owner falls back to the territory
    h = {"X-API-Key": keys["operator"]}
    client.post("/v1/routing-rules", json={"category": "component:02", "name": "道路交通"}, headers=h)
    comp = _route(client, x, y, "component:0201")
    assert comp["unit"]["code"] == "ws-1" and comp["rule"]["basis"] == "territory" and comp["rule"]["fallback"]


def test_event_without_territorial_unit_goes_to_owner(client, jurisdiction, keys) -> None:
    h = {"X-API-Key": keys["operator"]}
    unit = client.post("/v1/units", json={"code": "scjg", "name": "市场监管局"}, headers=h).json()
    client.post("/v1/routing-rules", json={"category": "event:04", "name": "街面秩序", "owner_unit": "scjg"}, headers=h)
    _, x, y = _inside(jurisdiction)
    r = _route(client, x, y, "event:0401")
    assert r["unit"]["id"] == unit["id"]
    assert r["rule"]["basis"] == "owner" and r["rule"]["fallback"] is True
    assert r["time_limit"]["value"] == 3  # "other units 3 days"


def test_outside_and_bad_input(client, directory) -> None:
    out = _route(client, 116.4, 39.9, "event:0102")
    assert out["outside"] is True and out["unit"] is None and out["grid_code"] is None
    assert out["rule"]["basis"] == "outside"
    for body, field in [
        ({"lon": 106.7, "lat": 26.57, "category": "event:9901"}, "category"),
        ({"lon": 106.7, "lat": 26.57, "category": "nonsense"}, "category"),
        ({"lon": 106.7, "lat": 26.57, "category": "event:01", "urgency": "asap"}, "urgency"),
        ({"lon": 106.7, "lat": 126.57, "category": "event:01"}, "lat"),
        ({"lon": "x", "lat": 26.57, "category": "event:01"}, "lon"),
        ({"lon": 106.7, "lat": 26.57}, "category"),
    ]:
        r = client.post("/v1/route", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["details"][0]["field"] == field


def test_builtin_catalogue_routes_before_any_import(jurisdiction) -> None:
    g, x, y = _inside(jurisdiction)
    with session_scope(jurisdiction.url) as session:
        result = route(session, x, y, "wgs84", "事件:0102", "urgent")
    assert result.grid_code == g.code
    assert result.rule["rule"]["source"] == "defaults"
    assert result.time_limit == {"value": 2.0, "unit": "hours", "working": True, "source": "defaults"}
    assert result.unit is None and result.rule["basis"] == "none"  # no unit in the directory yet
    assert result.to_dict()["community"]["code"] == g.community


def test_stored_rules_do_not_switch_the_defaults_off(client, jurisdiction, directory) -> None:
    _, x, y = _inside(jurisdiction)
    stored = _route(client, x, y, "event:0102")
    assert stored["rule"]["rule"]["source"] == "store" and stored["rule"]["rule"]["category"] == "event:01"
    builtin = _route(client, x, y, "event:0601")  # no stored rule for class 06: the built-in one applies
    assert builtin["rule"]["rule"] == {"id": None, "category": "event:06", "name": "其他事件", "source": "defaults"}
    assert builtin["unit"]["code"] == "sq-1"  # the built-in rule starts at the community
