"""Community layers checked against the boundary: overlaps, gaps and land outside every community.

Why: a grid never crosses a community border, so the communities must tile the jurisdiction exactly. Real layers
do not: neighbouring committees' polygons overlap, slivers are left between them, and whole areas (a park, a port)
belong to no community. Each problem is located (community codes, area, a lon/lat to look at) and the input is
refused, unless the planner asks for repair: overlaps and gaps then go to the neighbouring community they share
most border with, and land outside every community to a code the planner names. Digitizing noise (pieces under
``NOISE_M2`` or thinner than ``NOISE_WIDTH_M``) is repaired silently and counted.

Method: node all community outlines with the boundary, polygonize, and label every face with the communities
covering it — one (fine), several (overlap) or none (gap or outside). Faces to repair join their heaviest
neighbour, as artefacts do in ``geometry.faces``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geogrid.crs import lonlat_of
from geogrid.geometry import face_sides, grouped_union, heaviest_neighbour, interior_points, lines_only, polygons_only

NOISE_M2 = 100.0
"""Overlaps and gaps smaller than this (m²) are digitizing noise."""
NOISE_WIDTH_M = 2.0
"""... and so are those thinner than this (they vanish under an inward buffer of half of it)."""
GAP_M2 = 20_000.0
GAP_WIDTH_M = 50.0
"""Uncovered land touching two or more communities that is small (up to 2 ha) or thin (narrower than 50 m) is a gap
between them; other uncovered land is "outside every community"."""


@dataclass
class CommunityCheck:
    """The outcome: clean community polygons (one per code kept) and what was found."""

    polygons: np.ndarray
    codes: np.ndarray
    overlaps: list[dict] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    outside: list[dict] = field(default_factory=list)
    noise_fixed: int = 0

    def unresolved(self) -> list[tuple[str, dict]]:
        """Problems left after repair: (kind, place)."""
        return [
            (kind, item)
            for kind, items in (("overlap", self.overlaps), ("gap", self.gaps), ("outside", self.outside))
            for item in items
            if "repaired" not in item
        ]

    def findings(self) -> dict:
        return {
            "overlaps": self.overlaps,
            "gaps": self.gaps,
            "outside": self.outside,
            "noise_repaired": self.noise_fixed,
        }


def _faces(polys: np.ndarray, boundary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces of the noded community outlines + boundary inside the boundary, their edges and edge sides."""
    lines = lines_only(np.concatenate([shapely.boundary(polys), [shapely.boundary(boundary)]]))
    edges = lines_only(shapely.get_parts(shapely.union_all(lines)))
    faces = polygons_only(shapely.get_parts(shapely.polygonize(edges)))
    faces = faces[shapely.contains_properly(boundary, interior_points(faces))]
    return faces, edges, face_sides(edges, faces)


def _cover(faces: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per face: how many communities cover it, and one of them (-1 = none)."""
    fi, ci = shapely.STRtree(polys).query(interior_points(faces), predicate="within")
    count = np.bincount(fi, minlength=len(faces))
    owner = np.full(len(faces), -1, dtype=np.int64)
    owner[fi] = ci
    return count, owner


def _place(geom, codes: list[str], metric) -> dict:
    lon, lat = lonlat_of(shapely.point_on_surface(geom), metric)
    area = round(float(shapely.area(geom)), 1)
    return {"communities": codes, "area_m2": area, "lon": round(lon, 6), "lat": round(lat, 6)}


def _neighbour_communities(sides: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Per face: how many distinct communities own the faces across its edges."""
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0)
    a, b = sides[inner, 0], sides[inner, 1]
    pairs = np.column_stack([np.concatenate([a, b]), np.concatenate([owner[b], owner[a]])])
    pairs = np.unique(pairs[pairs[:, 1] >= 0], axis=0)
    return np.bincount(pairs[:, 0], minlength=len(owner))


def _is_noise(faces: np.ndarray) -> np.ndarray:
    return (shapely.area(faces) < NOISE_M2) | shapely.is_empty(shapely.buffer(faces, -NOISE_WIDTH_M / 2.0, quad_segs=2))


def _settle(owner: np.ndarray, todo: np.ndarray, edges, sides, rounds: int = 10) -> np.ndarray:
    """Faces in ``todo`` take the community of the settled neighbour they share most border with."""
    owner = owner.copy()
    owner[todo] = -1
    inner = (sides[:, 0] >= 0) & (sides[:, 1] >= 0)
    a, b, w = sides[inner, 0], sides[inner, 1], shapely.length(edges[inner])
    for _ in range(rounds):
        open_ = (owner < 0) & todo
        fwd, bwd = open_[a] & ~open_[b], open_[b] & ~open_[a]
        if not (fwd.any() or bwd.any()):
            break
        src = np.concatenate([a[fwd], b[bwd]])
        ids, new, _ = heaviest_neighbour(
            src, np.concatenate([owner[b[fwd]], owner[a[bwd]]]), np.concatenate([w[fwd], w[bwd]])
        )
        owner[ids] = new
    return owner


def check_communities(polys: np.ndarray, codes: np.ndarray, boundary, metric, repair: bool, outside_code: str | None):
    """Locate overlaps, gaps and uncovered land; repair them if asked (see the module docstring).

    Returns a ``CommunityCheck`` whose lists are empty when the layer tiles the boundary (up to noise) or when
    everything found was repaired; the caller refuses the input when they are not.
    """
    faces, edges, sides = _faces(polys, boundary)
    count, owner = _cover(faces, polys)
    noise = _is_noise(faces)
    check = CommunityCheck(polys, codes)
    # overlaps: faces under two or more communities
    over = (count > 1) & ~noise
    if over.any():
        fi, ci = shapely.STRtree(polys).query(interior_points(faces[over]), predicate="within")
        for k, f in enumerate(faces[over]):
            check.overlaps.append(_place(f, sorted(set(codes[ci[fi == k]].tolist())), metric))
    # uncovered faces: small ones between communities are gaps, the rest is land outside every community
    bare = (count == 0) & ~noise
    thin = shapely.is_empty(shapely.buffer(faces, -GAP_WIDTH_M / 2.0, quad_segs=2))
    gap = bare & ((shapely.area(faces) <= GAP_M2) | thin) & (_neighbour_communities(sides, owner) >= 2)
    outside = bare & ~gap
    for f in faces[gap]:
        check.gaps.append(_place(f, [], metric))
    for f in faces[outside]:
        check.outside.append(_place(f, [], metric))
    fixable = (noise & (count != 1)) | (repair & (over | gap))
    check.noise_fixed = int((noise & (count != 1)).sum())
    owner = _settle(owner, fixable, edges, sides)
    if outside_code is not None and outside.any():
        codes = np.append(codes, outside_code)
        owner[outside & (owner < 0)] = len(codes) - 1
    keep = owner >= 0
    labels, merged = grouped_union(faces[keep], owner[keep], coverage=True)
    check.polygons, check.codes = merged, codes[labels]
    if repair:
        check.overlaps, check.gaps = _repaired(check.overlaps), _repaired(check.gaps)
    if outside_code is not None:
        check.outside = _repaired(check.outside, outside_code)
    return check


def _repaired(items: list[dict], code: str | None = None) -> list[dict]:
    for item in items:
        item["repaired"] = f"assigned to {code}" if code else "assigned to the neighbour sharing most border"
    return items
