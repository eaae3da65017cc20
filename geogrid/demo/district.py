"""A seeded synthetic Chinese district: roads, boundary, streets (街道), communities (社区/村), river, tier zones.

Why: the partition engine, its tests, the demo and the benchmarks need an input that has the hard cases of real OSM
data (dual carriageways 20–30 m apart, roundabouts, cul-de-sacs with turning bulbs, footpaths in parks and campuses,
a river, roads running past the jurisdiction) without depending on files outside the repository. Everything is
drawn from ``numpy.random.default_rng(seed)``, so a seed always gives the same district.

Geometry is built in a local metric frame, then placed in the CGCS2000 Gauss-Krüger zone (``crs.local_metric_crs``)
around ``origin`` (lon, lat); :meth:`SyntheticDistrict.to_store` gives it in EPSG:4490.

Layout: arterials (trunk/primary, dual carriageways) form a jittered grid about ``arterial_spacing_m`` apart and
bound the communities; a secondary/tertiary street runs through the middle of every arterial cell; residential
streets are denser near the centre (≈160 m apart) than at the edge (≈380 m); outer streets are towns (镇) whose
communities are villages (村). Codes follow GB/T 2260 style: district 6 digits, street +3 (001–099 街道, 101–199 镇),
community +3 (001–199 社区, 201–399 村).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geogrid import STORE_SRID
from geogrid.crs import local_metric_crs

DEFAULT_ORIGIN = (106.70, 26.57)
"""Default centre (lon, lat): a plausible southwestern Chinese city, inside Gauss-Krüger zone CM 105°E."""
DEFAULT_AREA_KM2 = 50.0
SMALL_AREA_KM2 = 10.0
DEFAULT_DISTRICT_CODE = "520199"
"""Well-formed (province 52, prefecture 01, county 99) but not a real district: the data are invented."""
DEFAULT_DISTRICT_NAME = "示范区"

_SYL = list("东西南北中新华安宁康平和兴盛光明青云翠金龙凤山水湖桥园林花溪泉石松竹梅兰春秋长乐富民永丰")
_ROAD_SUFFIX = {"trunk": "大道", "primary": "路", "secondary": "路", "tertiary": "街", "residential": "巷"}


@dataclass(frozen=True)
class SyntheticDistrict:
    """The layers of one generated district, all in the same CRS."""

    roads: gpd.GeoDataFrame
    """LineStrings; columns ``highway`` (OSM class), ``name``, ``oneway`` ('yes'/'no'), ``junction``, ``bridge``."""
    boundary: gpd.GeoDataFrame
    """One row: ``code`` (6 digits), ``name``, ``level`` = 'district'."""
    streets: gpd.GeoDataFrame
    """``code`` (9 digits), ``name``, ``parent_code``, ``level`` = 'street'."""
    communities: gpd.GeoDataFrame
    """``code`` (12 digits), ``name``, ``parent_code`` (street), ``level`` = 'community'; tiles the boundary."""
    barriers: gpd.GeoDataFrame
    """River polygons; ``kind`` = 'river', ``name``."""
    tier_zones: gpd.GeoDataFrame
    """Planner zones tiling the boundary along street borders; ``tier`` in A/B/C."""

    @property
    def crs(self) -> CRS:
        return CRS.from_user_input(self.roads.crs)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_crs(self, crs: int | str | CRS) -> SyntheticDistrict:
        return replace(self, **{name: gdf.to_crs(crs) for name, gdf in self.layers().items()})

    def to_store(self) -> SyntheticDistrict:
        """The district in EPSG:4490 (CGCS2000 lon/lat), the store CRS."""
        return self.to_crs(STORE_SRID)


# ---------------------------------------------------------------------------------------------------------------
# geometry helpers (local frame, metres)


def _polyline(rng: np.random.Generator, axis: int, pos: float, lo: float, hi: float, jitter: float):
    """A gently bent line at ``pos`` across [lo, hi]; axis 0 = vertical (x = pos), 1 = horizontal (y = pos)."""
    t = np.linspace(lo, hi, 4)
    off = pos + rng.uniform(-jitter, jitter, 4)
    xy = np.column_stack([off, t]) if axis == 0 else np.column_stack([t, off])
    return shapely.linestrings(xy)


def _boundary(rng: np.random.Generator, width: float, height: float, area_m2: float):
    """An irregular quadrilateral-ish polygon with a wobbly edge, rescaled to ``area_m2`` exactly."""
    step = 600.0
    pts = []
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
        n = max(2, int(np.hypot(x1 - x0, y1 - y0) // step))
        t = np.arange(n) / n
        nx, ny = -(y1 - y0), x1 - x0
        norm = np.hypot(nx, ny)
        wobble = rng.uniform(-0.02, 0.02, n) * min(width, height)
        wobble[0] = rng.uniform(-0.05, 0.05) * min(width, height)  # corners move more
        pts.append(np.column_stack([x0 + t * (x1 - x0) + wobble * nx / norm, y0 + t * (y1 - y0) + wobble * ny / norm]))
    poly = shapely.make_valid(shapely.Polygon(np.vstack(pts)))
    if poly.geom_type != "Polygon":
        poly = max(shapely.get_parts(poly), key=lambda g: g.area)
    c = poly.centroid
    f = np.sqrt(area_m2 / poly.area)
    return shapely.affinity.scale(poly, f, f, origin=c)


def _frame(rng: np.random.Generator, boundary, n_cells: int, spacing: float, axis: int):
    """Positions of arterials crossing ``boundary`` along ``axis`` (interior lines only)."""
    lo, hi = (boundary.bounds[0], boundary.bounds[2]) if axis == 0 else (boundary.bounds[1], boundary.bounds[3])
    k = max(2, int(round((hi - lo) / spacing)))
    base = lo + (hi - lo) * np.arange(1, k) / k
    return base + rng.uniform(-0.1, 0.1, len(base)) * (hi - lo) / k


def _names(rng: np.random.Generator, n: int, suffix: str, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        a, b = rng.choice(len(_SYL), 2, replace=False)
        name = _SYL[a] + _SYL[b] + suffix
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _merge_small(cells: np.ndarray, min_area: float) -> np.ndarray:
    """Merge cells smaller than ``min_area`` (boundary slivers) into the neighbour sharing the longest border."""
    cells = list(cells)
    while True:
        areas = np.array([c.area for c in cells])
        small = np.flatnonzero(areas < min_area)
        if len(small) == 0 or len(cells) == 1:
            return np.array(cells, dtype=object)
        i = int(small[np.argmin(areas[small])])
        shared = shapely.length(shapely.intersection(cells[i].boundary, [c.boundary for c in cells]))
        shared[i] = -1.0
        j = int(np.argmax(shared))
        cells[j] = shapely.union(cells[j], cells[i]).buffer(0)
        del cells[i]


# ---------------------------------------------------------------------------------------------------------------
# generator: one function per layer, called in a fixed order (the random stream is shared, so order is output)


@dataclass
class _Draft:
    """The district being drawn (local frame, metres) and the random stream every step draws from, in order."""

    rng: np.random.Generator
    boundary: shapely.Polygon
    spacing: float
    margin: float = 400.0
    taken: set = field(default_factory=set)
    rows: list = field(default_factory=list)
    """Road rows: (geometry, highway, name, oneway, junction)."""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.boundary.bounds

    def add(self, geoms, highway: str, name: str = "", oneway: str = "no", junction: str = "") -> None:
        for g in shapely.get_parts(np.atleast_1d(geoms)):
            if not g.is_empty and g.length > 0.5:
                self.rows.append((g, highway, name, oneway, junction))


def _arterials(d: _Draft):
    """Arterial centrelines on a jittered grid: (vertical, horizontal, half-widths, classes, names, x, y)."""
    bx0, by0, bx1, by1 = d.bounds
    xs = _frame(d.rng, d.boundary, 0, d.spacing, 0)
    ys = _frame(d.rng, d.boundary, 0, d.spacing, 1)
    vert = [_polyline(d.rng, 0, x, by0 - d.margin, by1 + d.margin, 40.0) for x in xs]
    horz = [_polyline(d.rng, 1, y, bx0 - d.margin, bx1 + d.margin, 40.0) for y in ys]
    # carriageway offset 10–15 m → dual carriageways 20–30 m apart
    half = d.rng.uniform(10.0, 15.0, len(vert) + len(horz))
    art_class = np.where(np.arange(len(vert) + len(horz)) % 3 == 1, "trunk", "primary")
    names = [_names(d.rng, 1, _ROAD_SUFFIX[c], d.taken)[0] for c in art_class]
    return vert, horz, half, art_class, names, xs, ys


def _cells(d: _Draft, centerlines: np.ndarray) -> np.ndarray:
    """Communities: faces of the arterial centrelines inside the boundary, slivers merged, north→south, west→east."""
    noded = shapely.union_all(np.append(centerlines, d.boundary.exterior))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.contains(d.boundary.buffer(1.0), shapely.point_on_surface(faces))]
    faces = faces[np.argsort([f.area for f in faces])[::-1]]
    cells = shapely.normalize(_merge_small(faces, 0.2 * float(np.median(shapely.area(faces)))))
    order = np.lexsort((shapely.get_x(shapely.centroid(cells)), -shapely.get_y(shapely.centroid(cells))))
    return cells[order]


def _carriageways(d: _Draft, vert, horz, half, art_class, names):
    """Dual carriageways and roundabouts (30 % of junctions); returns the carriageway band minus a 1.5 m margin."""
    centerlines = np.array(vert + horz, dtype=object)
    jx = shapely.intersection(np.array(vert, dtype=object)[:, None], np.array(horz, dtype=object)[None, :]).ravel()
    jx = jx[shapely.get_type_id(jx) == 0]
    jx = jx[shapely.contains(d.boundary, jx)]
    rb_pts = jx[d.rng.random(len(jx)) < 0.3]
    rb_discs = shapely.buffer(rb_pts, d.rng.uniform(30.0, 42.0, len(rb_pts)), quad_segs=6)
    rb_union = shapely.union_all(rb_discs) if len(rb_discs) else shapely.Polygon()
    for line, hw, cls, name in zip(centerlines, half, art_class, names, strict=True):
        right = shapely.offset_curve(line, -hw, join_style="mitre")
        left = shapely.reverse(shapely.offset_curve(line, hw, join_style="mitre"))
        d.add(shapely.difference(right, rb_union), cls, name, "yes")
        d.add(shapely.difference(left, rb_union), cls, name, "yes")
    for disc in rb_discs:
        d.add(disc.exterior, "primary", "", "yes", "roundabout")
    # slightly narrower than the carriageways, so side streets overshoot by 1.5 m and get noded
    band = shapely.union_all(shapely.buffer(centerlines, half - 1.5, cap_style="flat", join_style="mitre"))
    return shapely.union(band, shapely.buffer(rb_union, -1.5))


def _special(d: _Draft, cells: np.ndarray, cell_r: np.ndarray) -> tuple[set, set, set]:
    """Park (footways), campus (service + footway) and farmland (tracks) cells; never the same cell twice."""
    n = len(cells)
    interior = np.flatnonzero(shapely.area(cells) > 0.6 * d.spacing**2)
    pick = d.rng.permutation(interior if len(interior) >= 3 else np.arange(n))
    n_special = max(3, n // 12)
    park = set(pick[: max(1, n_special // 3)].tolist())
    campus = set(pick[len(park) : len(park) + max(1, n_special // 3)].tolist())
    outer = [i for i in np.argsort(-cell_r) if i not in park and i not in campus]
    return park, campus, set(outer[: max(1, n_special // 3)])


def _through_streets(d: _Draft, xs, ys, inner: np.ndarray, park: set, campus: set) -> None:
    """A secondary/tertiary street through the middle of each arterial row and column, interrupted by parks."""
    bx0, by0, bx1, by1 = d.bounds
    mids_x = (np.array([bx0, *xs]) + np.array([*xs, bx1])) / 2.0
    mids_y = (np.array([by0, *ys]) + np.array([*ys, by1])) / 2.0
    mids = [_polyline(d.rng, 0, x, by0 - d.margin, by1 + d.margin, 25.0) for x in mids_x]
    mids += [_polyline(d.rng, 1, y, bx0 - d.margin, bx1 + d.margin, 25.0) for y in mids_y]
    no_through = shapely.union_all([inner[i] for i in park | campus])
    for k, line in enumerate(mids):
        cls = "secondary" if k % 2 == 0 else "tertiary"
        d.add(shapely.difference(line, no_through), cls, _names(d.rng, 1, _ROAD_SUFFIX[cls], d.taken)[0])


def _park_paths(d: _Draft, cell_in, is_park: bool) -> None:
    """A ring path 120 m inside, four diagonal spokes, and in parks a wiggly footpath across."""
    x0, y0, x1, y1 = cell_in.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    shrunk = shapely.buffer(cell_in, -120.0)
    kind = "footway" if is_park else "service"
    if shrunk.area > 0:
        d.add(shapely.simplify(shapely.boundary(shrunk), 5.0), kind)
    for dx, dy in ((-1, -1), (1, 1), (-1, 1), (1, -1)):
        spoke = shapely.linestrings([[cx, cy], [cx + dx * 2 * (x1 - x0), cy + dy * 2 * (y1 - y0)]])
        d.add(shapely.intersection(spoke, cell_in), kind)
    if is_park:
        xy = np.column_stack([np.linspace(x0, x1, 12), cy + d.rng.uniform(-0.15, 0.15, 12) * (y1 - y0)])
        d.add(shapely.intersection(shapely.linestrings(xy), cell_in), "path")


def _cell_streets(d: _Draft, cell_in, r: float, klass: str) -> list:
    """Residential streets (or farm tracks) across one cell, denser near the centre (≈160 m) than at the edge."""
    x0, y0, x1, y1 = cell_in.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    gap = 160.0 + 220.0 * float(r)
    street_lines = []
    for axis in (0, 1):
        lo, hi, c = (x0, x1, cx) if axis == 0 else (y0, y1, cy)
        offs = np.arange(c - gap, lo, -gap).tolist() + np.arange(c + gap, hi, gap).tolist()
        offs = np.array(offs) + d.rng.uniform(-0.15, 0.15, len(offs)) * gap
        keep = d.rng.random(len(offs)) > (0.55 if klass == "track" else 0.15)
        for off in offs[keep]:
            tilt = d.rng.uniform(-0.06, 0.06)
            if axis == 0:
                xy = np.array([[off - tilt * (y1 - y0), y0 - 50], [off + tilt * (y1 - y0), y1 + 50]])
            else:
                xy = np.array([[x0 - 50, off - tilt * (x1 - x0)], [x1 + 50, off + tilt * (x1 - x0)]])
            seg = shapely.intersection(shapely.linestrings(xy), cell_in)
            street_lines.extend(p for p in shapely.get_parts(seg) if p.length > 30)
    return street_lines


def _cul_de_sacs(d: _Draft, cell_in, street_lines: list) -> None:
    """Perpendicular dead-end spurs off a few streets, some with a turning bulb."""
    host = np.array(street_lines, dtype=object)[d.rng.integers(0, len(street_lines), 3 + int(d.rng.integers(0, 5)))]
    for h in host:
        p = shapely.line_interpolate_point(h, d.rng.uniform(0.2, 0.8), normalized=True)
        (ax, ay), (bx, by) = shapely.get_coordinates(h)[[0, -1]]
        u = np.array([ay - by, bx - ax]) / np.hypot(bx - ax, by - ay) * d.rng.choice([-1.0, 1.0])
        length = d.rng.uniform(60.0, 140.0)
        bulb = d.rng.random() < 0.35
        r = 11.0
        end = np.array([p.x, p.y]) + u * (length - (r if bulb else 0.0))
        spur = shapely.linestrings([[p.x, p.y], end.tolist()])
        if not shapely.contains(cell_in, spur) or shapely.crosses(spur, shapely.union_all(street_lines)):
            continue
        d.add(spur, "residential", "", "no")
        if bulb:
            d.add(shapely.buffer(shapely.Point(end + u * r), r, quad_segs=4).exterior, "residential", "", "no")


def _local_roads(d: _Draft, inner: np.ndarray, cell_r: np.ndarray, park: set, campus: set, farm: set) -> None:
    """Per cell: park or campus paths, or residential streets (tracks on farmland) with cul-de-sacs."""
    for i, cell_in in enumerate(inner):
        if cell_in.is_empty:
            continue
        if i in park or i in campus:
            _park_paths(d, cell_in, i in park)
            continue
        klass = "track" if i in farm else "residential"
        street_lines = _cell_streets(d, cell_in, cell_r[i], klass)
        if not street_lines:
            continue
        d.add(np.array(street_lines, dtype=object), klass)
        if klass != "track":
            _cul_de_sacs(d, cell_in, street_lines)


def _river(d: _Draft, roads: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, shapely.Geometry]:
    """A sinuous river band across the district: minor roads stop at the bank, main roads cross on bridges."""
    bx0, by0, bx1, by1 = d.bounds
    rx = np.linspace(bx0 - d.margin, bx1 + d.margin, 80)
    yr = by0 + (by1 - by0) * d.rng.uniform(0.35, 0.6)
    ry = yr + (by1 - by0) * 0.06 * np.sin(2 * np.pi * rx / (0.9 * (bx1 - bx0)) + d.rng.uniform(0, 2 * np.pi))
    river_poly = shapely.buffer(shapely.linestrings(np.column_stack([rx, ry])), d.rng.uniform(30.0, 45.0))
    minor = ~roads["highway"].isin(["trunk", "primary", "secondary"]).to_numpy()
    geoms = roads.geometry.to_numpy().copy()
    geoms[minor] = shapely.difference(geoms[minor], shapely.buffer(river_poly, 8.0))
    roads = roads.set_geometry(geoms)
    over = roads[~minor].copy()
    over["bridge"] = "yes"
    over = over.set_geometry(shapely.intersection(over.geometry.to_numpy(), river_poly))
    roads.loc[~minor, "geometry"] = shapely.difference(roads.geometry.to_numpy()[~minor], river_poly)
    roads = pd.concat([roads.assign(bridge="no"), over], ignore_index=True).explode(index_parts=False)
    return roads[~roads.geometry.is_empty & (roads.geometry.length > 0.5)], river_poly


def _admin(d: _Draft, cells: np.ndarray, rmax: float, centre, district_code: str):
    """Streets (街道/镇: coarse blocks of communities, outer ones towns) and community codes, names, tier zones."""
    bx0, by0, bx1, by1 = d.bounds
    cc = shapely.centroid(cells)
    gx = max(2, int(round((bx1 - bx0) / (3.0 * d.spacing))))
    gy = max(2, int(round((by1 - by0) / (3.0 * d.spacing))))
    ix = np.clip(((shapely.get_x(cc) - bx0) / (bx1 - bx0) * gx).astype(int), 0, gx - 1)
    iy = np.clip(((by1 - shapely.get_y(cc)) / (by1 - by0) * gy).astype(int), 0, gy - 1)
    street_key = iy * gx + ix
    keys = np.unique(street_key)
    street_geoms = np.array([shapely.union_all(cells[street_key == k]) for k in keys], dtype=object)
    street_r = shapely.distance(shapely.centroid(street_geoms), centre) / rmax
    is_town = street_r > (np.sort(street_r)[len(keys) // 2] if len(keys) > 2 else np.inf)
    n_town = np.cumsum(is_town)
    n_jd = np.cumsum(~is_town)
    street_codes = [
        f"{district_code}{100 + nt:03d}" if t else f"{district_code}{nj:03d}"
        for t, nt, nj in zip(is_town, n_town, n_jd, strict=True)
    ]
    street_names = [_names(d.rng, 1, "镇" if t else "街道", d.taken)[0] for t in is_town]
    streets = gpd.GeoDataFrame(
        {"code": street_codes, "name": street_names, "parent_code": district_code, "level": "street"},
        geometry=street_geoms,
    )
    n = len(cells)
    comm_code, comm_name, comm_parent = (np.empty(n, dtype=object) for _ in range(3))
    for k, s_code, town in zip(keys, street_codes, is_town, strict=True):
        members = np.flatnonzero(street_key == k)  # cells are already ordered north→south, west→east
        base = 200 if town else 0
        comm_code[members] = [f"{s_code}{base + seq:03d}" for seq in range(1, len(members) + 1)]
        comm_name[members] = _names(d.rng, len(members), "村" if town else "社区", d.taken)
        comm_parent[members] = s_code
    communities = gpd.GeoDataFrame(
        {"code": comm_code, "name": comm_name, "parent_code": comm_parent, "level": "community"}, geometry=cells
    )
    # tier zones along street borders: central streets A, other 街道 B, towns C
    tier = np.where(is_town, "C", np.where(street_r <= np.min(street_r) + 1e-9, "A", "B"))
    if (tier == "A").sum() == 0 or len(keys) > 4:
        tier = np.where(is_town, "C", np.where(street_r <= np.quantile(street_r, 0.25), "A", "B"))
    zones = gpd.GeoDataFrame({"tier": tier}, geometry=street_geoms).dissolve("tier", as_index=False)
    return streets.sort_values("code", ignore_index=True), communities.sort_values("code", ignore_index=True), zones


def make_district(
    area_km2: float = DEFAULT_AREA_KM2,
    *,
    seed: int = 0,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    arterial_spacing_m: float | None = None,
    district_code: str = DEFAULT_DISTRICT_CODE,
    district_name: str = DEFAULT_DISTRICT_NAME,
    river: bool = True,
) -> SyntheticDistrict:
    """Generate a district of ``area_km2`` in the Gauss-Krüger CRS around ``origin`` (lon, lat).

    Same arguments → identical output. ``arterial_spacing_m`` defaults to 1,000 m (≥ 25 km²) or 800 m (smaller),
    which makes communities of ~0.6–1.2 km².
    """
    if area_km2 <= 0.5:
        raise ValueError(f"area_km2 must be > 0.5, got {area_km2}")
    if len(district_code) != 6 or not district_code.isdigit():
        raise ValueError(f"district_code must be 6 digits (GB/T 2260), got {district_code!r}")
    rng = np.random.default_rng(seed)
    area = area_km2 * 1e6
    width = np.sqrt(area * 1.15)
    d = _Draft(
        rng, _boundary(rng, width, area / width, area), arterial_spacing_m or (1000.0 if area_km2 >= 25 else 800.0)
    )
    vert, horz, half, art_class, art_names, xs, ys = _arterials(d)
    cells = _cells(d, np.array(vert + horz, dtype=object))
    centre = shapely.centroid(d.boundary)
    rmax = float(shapely.hausdorff_distance(centre, d.boundary.exterior))
    cell_r = shapely.distance(shapely.centroid(cells), centre) / rmax
    band = _carriageways(d, vert, horz, half, art_class, art_names)
    inner = shapely.difference(cells, band)
    park, campus, farm = _special(d, cells, cell_r)
    _through_streets(d, xs, ys, inner, park, campus)
    _local_roads(d, inner, cell_r, park, campus, farm)
    roads = gpd.GeoDataFrame(d.rows, columns=["geometry", "highway", "name", "oneway", "junction"], geometry="geometry")
    roads["bridge"] = "no"
    river_poly = shapely.Polygon()
    if river:
        roads, river_poly = _river(d, roads)
    roads = _node(roads, shapely.buffer(d.boundary, 250.0))
    streets, communities, zones = _admin(d, cells, rmax, centre, district_code)
    boundary_gdf = gpd.GeoDataFrame(
        {"code": [district_code], "name": [district_name], "level": ["district"]}, geometry=[d.boundary]
    )
    barriers = gpd.GeoDataFrame(
        {"kind": ["river"] if river else [], "name": ["清水河"] if river else []},
        geometry=[river_poly] if river else [],
    )
    crs = local_metric_crs(*origin)
    ox, oy = Transformer.from_crs(4326, crs, always_xy=True).transform(*origin)
    shift = np.array([ox - centre.x, oy - centre.y])

    def place(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        moved = shapely.transform(np.asarray(gdf.geometry.values), lambda c: c + shift)
        return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=moved, crs=crs)

    layers = {"roads": roads, "boundary": boundary_gdf, "streets": streets, "communities": communities}
    return SyntheticDistrict(
        **{k: place(v) for k, v in layers.items()}, barriers=place(barriers), tier_zones=place(zones)
    )


def _node(roads: gpd.GeoDataFrame, clip) -> gpd.GeoDataFrame:
    """Split every line where it meets another (OSM edges end at junctions), keep attributes, clip, drop stubs."""
    geoms = shapely.intersection(roads.geometry.to_numpy(), clip)
    roads = roads.set_geometry(geoms)
    roads = roads[~roads.geometry.is_empty].explode(index_parts=False).reset_index(drop=True)
    noded = shapely.get_parts(shapely.union_all(roads.geometry.to_numpy()))
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    src = roads.sindex.nearest(mid, return_all=False)[1]
    out = gpd.GeoDataFrame(roads.drop(columns="geometry").iloc[src].reset_index(drop=True), geometry=noded)
    # stubs left where side streets overshoot a carriageway: short edges with a free end
    first, last = shapely.get_point(noded, 0), shapely.get_point(noded, -1)
    keys = np.round(np.vstack([shapely.get_coordinates(first), shapely.get_coordinates(last)]), 3)
    _, inv, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    deg = counts[inv.ravel()]
    m = len(noded)
    dangling = (deg[:m] == 1) | (deg[m:] == 1)
    out = out[~(dangling & (shapely.length(noded) < 2.0))].reset_index(drop=True)
    return out


def small_district(seed: int = 0, **kwargs) -> SyntheticDistrict:
    """The ~10 km² variant used by the demo and the fast tests (4 × 4 arterial cells, 800 m spacing)."""
    return make_district(kwargs.pop("area_km2", SMALL_AREA_KM2), seed=seed, **kwargs)


def write_district(
    district: SyntheticDistrict,
    directory: str | Path,
    *,
    crs: int | str | CRS | None = STORE_SRID,
    driver: str = "GeoJSON",
    prefix: str = "",
    layers: tuple[str, ...] | None = None,
) -> dict[str, Path]:
    """Write each layer to ``directory`` as ``{prefix}{layer}.geojson`` (or ``.gpkg`` with driver GPKG).

    ``crs`` is the output CRS (EPSG:4490 by default; None keeps the metric CRS). Returns layer → path.
    """
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = {"GeoJSON": "geojson", "GPKG": "gpkg", "Parquet": "parquet"}.get(driver)
    if ext is None:
        raise ValueError(f"driver must be GeoJSON, GPKG or Parquet, got {driver!r}")
    moved = district.to_crs(crs) if crs is not None else district
    paths: dict[str, Path] = {}
    for name, gdf in moved.layers().items():
        if layers is not None and name not in layers:
            continue
        path = out_dir / f"{prefix}{name}.{ext}"
        if driver == "Parquet":
            gdf.to_parquet(path)
        else:
            gdf.to_file(path, driver=driver, layer=name if driver == "GPKG" else None)
        paths[name] = path
    return paths


__all__ = [
    "DEFAULT_AREA_KM2",
    "DEFAULT_ORIGIN",
    "SMALL_AREA_KM2",
    "SyntheticDistrict",
    "make_district",
    "small_district",
    "write_district",
]
