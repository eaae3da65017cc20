"""Open311 GeoReport v2 in both formats: XML parsed with lxml against the element names of the spec's examples,
discovery, service definitions, media_url, jurisdiction_id, error bodies, a JSON body, and an independent client
(the ``georeport`` package from PyPI) against a live server.
"""

from __future__ import annotations

import json

import pytest
from georeport import GeoReport
from lxml import etree

from tests.serving import uvicorn_server

# Element names of the examples on wiki.open311.org/GeoReport_v2 (written out here, not taken from our code).
SPEC_SERVICE = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
SPEC_REQUEST = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]  # fmt: skip
SPEC_CREATED = ["service_request_id", "service_notice", "account_id"]
PHOTO = "https://img.example.org/reports/garbage-1.jpg"


def xml(resp) -> etree._Element:
    assert resp.headers["content-type"].startswith("text/xml"), resp.headers["content-type"]
    return etree.fromstring(resp.content)


def children(element: etree._Element) -> list[str]:
    return [c.tag for c in element]


def form(keys, city, **extra) -> dict:
    lon, lat = city.west
    return {"api_key": keys["reporter"], "service_code": "event:0102", "lat": str(lat), "long": str(lon), **extra}


def test_xml_matches_the_spec_examples(client, city, keys) -> None:
    services = xml(client.get("/open311/v2/services.xml"))
    assert services.tag == "services" and len(services) > 10
    assert children(services[0]) == SPEC_SERVICE and services[0].findtext("metadata") == "false"
    created = xml(client.post("/open311/v2/requests.xml", data=form(keys, city, media_url=PHOTO)))
    assert created.tag == "service_requests" and children(created[0]) == SPEC_CREATED
    rid = created[0].findtext("service_request_id")
    one = xml(client.get(f"/open311/v2/requests/{rid}.xml"))
    assert one.tag == "service_requests" and children(one[0]) == SPEC_REQUEST
    assert one[0].findtext("media_url") == PHOTO and one[0].findtext("status") == "open"
    listed = xml(client.get("/open311/v2/requests.xml", params={"service_code": "event:0102"}))
    assert [r.findtext("service_request_id") for r in listed] == [rid]
    as_json = client.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert list(as_json) == SPEC_REQUEST and as_json["media_url"] == PHOTO
    definition = xml(client.get("/open311/v2/services/event:0102.xml"))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "event:0102"
    assert client.get("/open311/v2/services/event:0102.json").json() == {"service_code": "event:0102", "attributes": []}


@pytest.mark.parametrize("path", ["/open311/discovery", "/open311/v2/discovery"])
def test_discovery_in_both_formats(client, path) -> None:
    doc = client.get(f"{path}.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(doc)
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" and endpoint["url"].endswith(
        "/open311/v2"
    )
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    root = xml(client.get(f"{path}.xml"))
    assert root.tag == "discovery" and root.find("endpoints/endpoint/url").text == endpoint["url"]
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == endpoint["formats"]


def test_errors_in_both_formats_say_things_once(client, city, keys) -> None:
    missing = client.post("/open311/v2/requests.xml", data={"api_key": keys["reporter"], "service_code": "event:0102"})
    root = xml(missing)
    assert missing.status_code == 400 and root.tag == "errors" and root[0].findtext("code") == "400"
    description = root[0].findtext("description")
    assert description.count("lat is required") == 1, description
    for resp, status in [
        (client.get("/open311/v2/requests/999999.xml"), 404),
        (client.get("/open311/v2/services/nothing:99.xml"), 404),
        (client.get("/open311/v2/nothing-here.xml"), 404),
        (client.post("/open311/v2/requests.xml", data={"service_code": "event:0102"}), 403),
        (client.post("/open311/v2/requests.xml", data=form(keys, city, media_url="file:///etc/passwd")), 400),
    ]:
        assert resp.status_code == status and xml(resp)[0].findtext("code") == str(status), resp.text
    unknown = client.get("/open311/v2/nothing-here.json")
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    assert client.get("/open311/v2/services.yaml").status_code == 404


def test_a_json_body_is_read_like_the_form(client, city, keys) -> None:
    body = form(keys, city, description="垃圾桶满溢", media_url=PHOTO)
    r = client.post("/open311/v2/requests.json", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    assert client.get(f"/open311/v2/requests/{rid}.json").json()[0]["media_url"] == PHOTO
    no_key = {k: v for k, v in body.items() if k != "api_key"}
    denied = client.post("/open311/v2/requests.json", json=no_key)
    assert denied.status_code == 403 and "api_key" in denied.json()[0]["description"]
    nested = client.post("/open311/v2/requests.json", json={**body, "lat": [1, 2]})
    assert nested.status_code == 400 and nested.json()[0]["description"]


def test_jurisdiction_id_must_name_this_jurisdiction(client, city, keys) -> None:
    assert client.get("/open311/v2/services.json", params={"jurisdiction_id": "420102"}).status_code == 200
    wrong = client.get("/open311/v2/services.xml", params={"jurisdiction_id": "110101"})
    assert wrong.status_code == 404 and "jurisdiction_id" in xml(wrong)[0].findtext("description")
    posted = client.post("/open311/v2/requests.json", data=form(keys, city, jurisdiction_id="110101"))
    assert posted.status_code == 404


def test_an_independent_client_reads_both_formats(city, keys, client, tmp_path) -> None:
    created = client.post("/open311/v2/requests.json", data=form(keys, city, media_url=PHOTO)).json()[0]
    rid = created["service_request_id"]
    with uvicorn_server(city.url, tmp_path / "uvicorn.log") as base:
        for output in ("json", "xml"):
            api = GeoReport(f"{base}/open311/v2", jurisdiction="420102", output_format=output)
            codes = {s["service_code"] for s in api.get_service_list()}
            assert "event:0102" in codes and "component:0101" in codes
            assert api.get_service_definition("event:0102")["service_code"] == "event:0102"
            listed = api.get_service_requests(service_code="event:0102")
            listed = listed if isinstance(listed, list) else [listed]  # xmltodict gives one request as a dict
            assert [r["service_request_id"] for r in listed] == [rid]
            one = api.get_service_request(rid)
            assert one["media_url"] == PHOTO and one["status"] == "open"
