"""Reading road networks: OSM XML and PBF, vector files, class fields."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geogrid.io import InputError
from geogrid.roads import read_roads

OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="30.50" lon="114.30"/>
  <node id="2" lat="30.50" lon="114.31"/>
  <node id="3" lat="30.51" lon="114.31"/>
  <node id="4" lat="30.51" lon="114.30"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="1"/><nd ref="4"/><tag k="highway" v="construction"/></way>
  <way id="13"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="building" v="yes"/></way>
</osm>
"""


def test_osm_xml(tmp_path):
    path = tmp_path / "net.osm"
    path.write_text(OSM_XML)
    roads = read_roads(path)
    assert roads.crs.to_epsg() == 4490
    assert sorted(roads["highway"]) == ["footway", "primary"]
    assert dict(zip(roads["highway"], roads["road_class"], strict=True)) == {"primary": 1, "footway": 4}
    primary = roads.loc[roads["highway"] == "primary"].geometry.iloc[0]
    assert len(primary.coords) == 3
    assert primary.coords[0] == pytest.approx((114.30, 30.50))


def test_osm_pbf_helsinki(helsinki_roads):
    assert helsinki_roads.crs.to_epsg() == 4490
    assert set(helsinki_roads["road_class"]) == {1, 2, 3, 4}
    assert (helsinki_roads.geom_type == "LineString").all()


def test_class_field_strict(tmp_path):
    lines = [shapely.LineString([(114.3, 30.5), (114.31, 30.5)]), shapely.LineString([(114.3, 30.5), (114.3, 30.51)])]
    path = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"grade": ["主干路", "支路"]}, geometry=lines, crs=4326).to_file(path)
    roads = read_roads(path, class_field="grade")
    assert list(roads["road_class"]) == [1, 3]
    bad = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"grade": ["主干路", "高架桥下"]}, geometry=lines, crs=4326).to_file(bad)
    with pytest.raises(InputError, match=r"bad\.geojson.*grade.*高架桥下"):
        read_roads(bad, class_field="grade")
    with pytest.raises(InputError, match="no field 'level'"):
        read_roads(path, class_field="level")


def test_not_lines(tmp_path):
    path = tmp_path / "pts.geojson"
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[shapely.Point(114.3, 30.5)], crs=4326).to_file(path)
    with pytest.raises(InputError, match="no line geometries"):
        read_roads(path)
