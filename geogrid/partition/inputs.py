"""Stage 1, ``prepare_inputs``: every input layer checked and brought into one local metric CRS.

Why a stage of its own: each later stage trusts its input (polygons are valid, codes are 12 digits, lines are
lines, everything is in metres). Checking once here means a bad file is refused with a message that names the layer,
the place and the fix, before any work is done — never a silent wrong plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geogrid import STORE_SRID
from geogrid.config import PartitionConfig
from geogrid.crs import lonlat_of, metric_crs_for
from geogrid.geometry import as_lines, lines_only, polygons_only
from geogrid.partition.alignment import check_offset
from geogrid.partition.communities import check_communities
from geogrid.partition.errors import PartitionError
from geogrid.roads.classes import BORDER_CLASSES, MINOR, road_classes

CODE_FIELDS = ("community_code", "code", "adcode", "qhdm", "xzqdm", "社区代码", "代码", "编码")


@dataclass
class Inputs:
    """All inputs in ``metric`` (a local conformal CRS in metres), validated."""

    metric: CRS
    boundary: shapely.Geometry
    """The jurisdiction: polygonal, holes kept (a hole is never part of a grid)."""
    config: PartitionConfig
    road_lines: np.ndarray
    """Lines of the border classes (main, secondary, local), unclipped."""
    road_class: np.ndarray
    minor_lines: np.ndarray
    """Paths, tracks, service ways clipped to the boundary: where an oversize block is split first."""
    communities: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    """Community polygons clipped to the boundary."""
    community_codes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    barrier_lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    zone_polys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    zone_tiers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    units: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    """Compounds, parcels, campuses (polygons clipped to the boundary): a grid border never cuts one."""
    exclude: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    """Land that does not count toward size targets (mountain, water), polygons clipped to the boundary."""
    weight_xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    """Workload points inside the boundary (metric) and their weights."""
    weight: np.ndarray = field(default_factory=lambda: np.empty(0))
    findings: dict = field(default_factory=dict)
    """What the checks found and did (holes kept out, repairs): copied into the report."""

    @property
    def area_m2(self) -> float:
        return float(shapely.area(self.boundary))

    def code_of(self, community: np.ndarray) -> np.ndarray:
        """12-digit code per community index (-1 = no community: the configured prefix)."""
        community = np.asarray(community)
        codes = np.full(len(community), self.config.community_code, dtype=object)
        has = community >= 0
        if len(self.community_codes):
            codes[has] = self.community_codes[community[has]]
        return codes


def as_frame(obj, crs, what: str) -> gpd.GeoDataFrame:
    """A GeoDataFrame from a frame, a series or one shapely geometry (taking ``crs`` when it declares none)."""
    if isinstance(obj, gpd.GeoDataFrame):
        gdf = obj
    elif isinstance(obj, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=obj)
    elif isinstance(obj, shapely.Geometry):
        gdf = gpd.GeoDataFrame(geometry=[obj], crs=crs)
    else:
        raise PartitionError(f"expected a GeoDataFrame or a shapely geometry, got {type(obj).__name__}", layer=what)
    return gdf if gdf.crs is not None else gdf.set_crs(crs or STORE_SRID)


def _boundary(boundary, crs) -> tuple[shapely.Geometry, CRS]:
    """The jurisdiction as one valid polygonal geometry in its local metric CRS."""
    gdf = as_frame(boundary, crs, "boundary")
    if len(gdf) == 0:
        raise PartitionError("no features", layer="boundary")
    types = set(gdf.geom_type.dropna())
    if not types or not types <= {"Polygon", "MultiPolygon"}:
        got = ", ".join(sorted(map(str, types))) or "nothing"
        raise PartitionError(f"must be polygons, got {got}", layer="boundary", fix="pass the jurisdiction polygon")
    metric = metric_crs_for(gdf)
    geom = shapely.union_all(shapely.make_valid(gdf.to_crs(metric).geometry.to_numpy()))
    parts = polygons_only(shapely.get_parts(geom))
    if len(parts) == 0 or shapely.area(shapely.union_all(parts)) < 1.0:
        raise PartitionError("the polygon has no area", layer="boundary")
    return shapely.union_all(parts), metric


def _roads(roads, boundary, metric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(border-class lines, their classes, minor lines clipped to the boundary) in ``metric``."""
    if not isinstance(roads, gpd.GeoDataFrame) or len(roads) == 0:
        raise PartitionError("no road features", layer="roads")
    roads_m = roads.to_crs(metric) if roads.crs is not None else roads.set_crs(metric)
    lines, idx = lines_only(roads_m.geometry.to_numpy(), return_index=True)
    cls = road_classes(roads_m)[idx]
    border = np.isin(cls, BORDER_CLASSES)
    shapely.prepare(boundary)
    if not shapely.intersects(boundary, lines[border]).any():
        raise PartitionError(
            "no road (main, secondary or local class) lies inside the boundary",
            layer="roads",
            fix="check that roads and boundary are the same place and in the right CRS",
        )
    minor = lines_only(shapely.intersection(lines[cls == MINOR], boundary))
    return lines[border], cls[border], minor


def community_codes(comm: gpd.GeoDataFrame, field_name: str | None) -> np.ndarray:
    """The 12-digit code of every community (from ``field_name`` or the first field named like a code)."""
    if field_name is None:
        lower = {str(c).lower(): c for c in comm.columns if c != comm.geometry.name}
        field_name = next((lower[f] for f in CODE_FIELDS if f in lower), None)
    if field_name is None or field_name not in comm.columns:
        have = ", ".join(str(c) for c in comm.columns if c != comm.geometry.name) or "(none)"
        raise PartitionError(
            f"no 12-digit community code field ({'/'.join(CODE_FIELDS)}); fields: {have}",
            layer="communities",
            fix="name the code field with community_code_field in the config",
        )
    codes = comm[field_name].astype(str).str.strip().str.replace(r"\.0$", "", regex=True).to_numpy()
    bad = [i for i, c in enumerate(codes) if not (len(c) == 12 and c.isdigit())]
    if bad:
        raise PartitionError(
            f"field {field_name!r} of feature {bad[0]} is {codes[bad[0]]!r}, not a 12-digit community code",
            layer="communities",
        )
    return codes


def _holes(bnd, metric) -> list[dict]:
    """The holes of the jurisdiction (enclaves, lakes left out): kept out of every grid and reported."""
    holes = []
    for part in polygons_only(shapely.get_parts(bnd)):
        for k in range(shapely.get_num_interior_rings(part)):
            hole = shapely.Polygon(shapely.get_interior_ring(part, k))
            lon, lat = lonlat_of(shapely.point_on_surface(hole), metric)
            holes.append({"area_m2": round(float(hole.area), 1), "lon": round(lon, 6), "lat": round(lat, 6)})
    return holes


def _offset(inp: Inputs, outline, layer: str) -> None:
    """Refuse (or note) a layer that lines up with the roads clearly better after a GCJ-02/BD-09 shift."""
    if inp.config.offset_check == "off":
        return
    found = check_offset(outline, inp.road_lines, inp.road_class, inp.metric)
    if found is None:
        return
    inp.findings.setdefault("crs_offset", {})[layer] = found
    if inp.config.offset_check == "error":
        crs_name = found["shift"].removeprefix("roads-")
        raise PartitionError(
            f"lines up with the roads much better if {found['meaning']}: "
            f"{found['on_roads_shifted']:.0%} of its outline within 30 m of a road after a {found['offset_m']:.0f} m "
            f"{crs_name.upper()} shift, {found['on_roads_as_given']:.0%} as given",
            layer=layer,
            fix=(
                f"pass --{layer.replace('_', '-')}-crs {crs_name} (or --roads-crs {crs_name}) if that is so, "
                f"or --{layer.replace('_', '-')}-crs wgs84 to keep it as it is"
                if not found["shift"].startswith("roads-")
                else f"pass --roads-crs {crs_name} if that is so, or --{layer.replace('_', '-')}-crs wgs84 to keep it"
            ),
        )


def _communities(communities, crs, inp: Inputs) -> None:
    """Community polygons tiling the boundary, and their codes (overlaps, gaps, outside land refused or repaired)."""
    cfg = inp.config
    cm = as_frame(communities, crs, "communities")
    codes = community_codes(cm, cfg.community_code_field)
    geoms = shapely.make_valid(cm.to_crs(inp.metric).geometry.to_numpy())
    if not shapely.intersects(geoms, inp.boundary).any():
        raise PartitionError("none of them overlaps the boundary", layer="communities")
    check = check_communities(geoms, codes, inp.boundary, inp.metric, cfg.repair_communities, cfg.outside_code)
    inp.findings["communities_check"] = check.findings()
    bad = check.unresolved()
    if bad:
        kinds = sorted({k for k, _ in bad})
        fixes = []
        if {"overlap", "gap"} & set(kinds):
            fixes.append("fix the layer or pass --repair-communities")
        if "outside" in kinds:
            fixes.append("give that land a community, or pass --outside-code CODE (12 digits) for it")
        shifted = check_offset(shapely.boundary(shapely.union_all(geoms)), inp.road_lines, inp.road_class, inp.metric)
        if shifted is not None:
            fixes.append(f"the layer lines up with the roads better if {shifted['meaning']}: try --communities-crs")
        raise PartitionError(
            f"{len(bad)} problem(s) with how the communities cover the boundary ({', '.join(kinds)})",
            layer="communities",
            places=[_describe(kind, item) for kind, item in bad],
            fix="; ".join(fixes),
            points=[(item["lon"], item["lat"]) for _, item in bad],
        )
    inp.communities, inp.community_codes = check.polygons, check.codes


def _describe(kind: str, item: dict) -> str:
    where = f"{item['area_m2']:.0f} m² near {item['lon']:.5f}, {item['lat']:.5f}"
    if kind == "overlap":
        return f"overlap of {' and '.join(item['communities'])}: {where}"
    return f"{'gap between communities' if kind == 'gap' else 'land outside every community'}: {where}"


def _tier_zones(tier_zones, crs, inp: Inputs) -> None:
    """Planner-drawn tier zones: polygons with a tier field holding A, B or C."""
    cfg = inp.config
    tz = as_frame(tier_zones, crs, "tier_zones")
    if cfg.tier_field not in tz.columns:
        raise PartitionError(f"no field {cfg.tier_field!r}", layer="tier_zones", fix="set tier_field in the config")
    zt = tz[cfg.tier_field].astype(str).str.strip().str.upper().to_numpy()
    bad = sorted(set(zt) - set(cfg.tiers))
    if bad:
        raise PartitionError(
            f"field {cfg.tier_field!r} has unknown tier(s) {', '.join(bad)} (A/B/C)", layer="tier_zones"
        )
    inp.zone_polys, inp.zone_tiers = tz.to_crs(inp.metric).geometry.to_numpy(), zt.astype(object)


def _polygons(frame, crs, inp: Inputs, layer: str) -> np.ndarray:
    """A polygon layer in the metric CRS, made valid and clipped to the boundary (empty parts dropped)."""
    gdf = as_frame(frame, crs, layer)
    types = set(gdf.geom_type.dropna())
    if not types <= {"Polygon", "MultiPolygon"}:
        raise PartitionError(f"must be polygons, got {', '.join(sorted(map(str, types)))}", layer=layer)
    geoms = shapely.intersection(shapely.make_valid(gdf.to_crs(inp.metric).geometry.to_numpy()), inp.boundary)
    return polygons_only(geoms)


UNIT_CROSS_SHARE = 0.05
"""A unit with more than this share of its area (and over 100 m²) in a second community is a contradiction."""


def _units(units, crs, inp: Inputs) -> None:
    """Units that must stay whole; one lying across a community border cannot, and is refused."""
    polys = _polygons(units, crs, inp, "units")
    if len(inp.communities) and len(polys):
        ui, ci = shapely.STRtree(inp.communities).query(polys, predicate="intersects")
        share = shapely.area(shapely.intersection(polys[ui], inp.communities[ci]))
        main = np.zeros(len(polys))
        np.maximum.at(main, ui, share)
        rest = shapely.area(polys) - main
        bad = np.flatnonzero((rest > UNIT_CROSS_SHARE * shapely.area(polys)) & (rest > 100.0))
        if len(bad):
            raise PartitionError(
                f"{len(bad)} unit(s) lie across a community border and cannot be kept whole",
                layer="units",
                places=[_place(polys[k], inp.metric) for k in bad],
                fix="split those units at the community border, or correct the community layer",
                points=[lonlat_of(shapely.point_on_surface(polys[k]), inp.metric) for k in bad],
            )
    inp.units = polys


def _place(geom, metric) -> str:
    lon, lat = lonlat_of(shapely.point_on_surface(geom), metric)
    return f"{shapely.area(geom):.0f} m² near {lon:.5f}, {lat:.5f}"


def _weights(weights, crs, inp: Inputs) -> None:
    """Workload points inside the boundary: a GeoDataFrame of points with a numeric ``weight`` column."""
    gdf = as_frame(weights, crs, "weights")
    if "weight" not in gdf.columns or not set(gdf.geom_type.dropna()) <= {"Point"}:
        raise PartitionError(
            "expected points with a 'weight' column",
            layer="weights",
            fix="read them with geogrid.workload.read_weights",
        )
    xy = shapely.get_coordinates(gdf.to_crs(inp.metric).geometry.to_numpy())
    inside = shapely.contains_xy(inp.boundary, xy[:, 0], xy[:, 1])
    value = gdf["weight"].to_numpy(dtype=float)
    if not (value[inside] > 0).any():
        raise PartitionError("no weight inside the boundary", layer="weights", fix="check the layer's place and CRS")
    inp.weight_xy, inp.weight = xy[inside], value[inside]
    inp.findings["weights"] = {"points": int(inside.sum()), "total": round(float(value[inside].sum()), 3)}


def _needs(inp: Inputs) -> None:
    """Inputs the configuration needs: communities for social grids, workload weights to balance on."""
    cfg = inp.config
    if cfg.needs_communities and len(inp.communities) == 0:
        raise PartitionError(
            f"{cfg.preset} grids lie inside one community each: a community layer is required",
            layer="communities",
            fix="pass --communities FILE",
        )
    if cfg.balance != "area" and len(inp.weight) == 0:
        raise PartitionError(
            f"balance by {cfg.balance} needs workload weights",
            layer="weights",
            fix="pass --weights FILE or --balance area",
        )


def prepare_inputs(
    roads: gpd.GeoDataFrame,
    boundary,
    communities: gpd.GeoDataFrame | None,
    tier_zones: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame | None,
    config: PartitionConfig,
    *,
    units: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | None = None,
    weights: gpd.GeoDataFrame | None = None,
) -> Inputs:
    """Check every layer and bring it into the boundary's local metric CRS; raise ``PartitionError`` on bad input."""
    bnd, metric = _boundary(boundary, roads.crs if isinstance(roads, gpd.GeoDataFrame) else None)
    lines, cls, minor = _roads(roads, bnd, metric)
    inp = Inputs(metric=metric, boundary=bnd, config=config, road_lines=lines, road_class=cls, minor_lines=minor)
    inp.findings["holes"] = _holes(bnd, metric)
    _offset(inp, shapely.boundary(bnd), "boundary")
    if communities is not None and len(communities):
        _communities(communities, roads.crs, inp)
    if tier_zones is not None and len(tier_zones):
        _tier_zones(tier_zones, roads.crs, inp)
    if barriers is not None and len(barriers):
        inp.barrier_lines = as_lines(as_frame(barriers, roads.crs, "barriers").to_crs(metric).geometry.to_numpy())
    if units is not None and len(units):
        _units(units, roads.crs, inp)
    if exclude is not None and len(exclude):
        inp.exclude = _polygons(exclude, roads.crs, inp, "exclude")
    if weights is not None and len(weights):
        _weights(weights, roads.crs, inp)
    _needs(inp)
    return inp
