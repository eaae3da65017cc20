"""Importing planners' files into the store: admin areas (district/street/community) and grid layers.

Field names are guessed from common spellings (``code``/``adcode``/``编码`` …) unless given; when nothing matches
the error lists the file's fields. Invalid polygons are repaired (polygonal part of make_valid) and listed.
Features sharing a code become one area (their union). Parents, and a grid's community, are matched by code when
a field gives them, otherwise spatially: the candidate covering the largest part of the feature.
Nothing here commits: the caller runs one import in one transaction, so a failure leaves the store untouched.
Feature numbers in messages are 0-based row positions in the file (the FID QGIS shows for a Shapefile).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid import STORE_SRID
from geogrid.crs import metric_crs_for
from geogrid.io import InputError, guess_field, read_vector, require_fields
from geogrid.metrics.size import area_m2
from geogrid.store.models import ADMIN_LEVELS
from geogrid.store.plans import CODE_MAX, save_draft_plan
from geogrid.validation import repair_polygonal

CODE_FIELDS = ("code", "adcode", "编码", "代码", "网格编码", "区划代码", "grid_code", "gridcode", "wgbm", "bm", "dm")
NAME_FIELDS = ("name", "名称", "网格名称", "区划名称", "adname", "grid_name", "gridname", "wgmc", "mc")
TIER_FIELDS = ("tier", "等级", "级别", "网格等级", "grade", "level", "dj")
PARENT_FIELDS = ("parent", "parent_code", "parentcode", "上级编码", "上级代码", "上级", "sjbm")
PARENT_LEVEL = {"district": None, "street": "district", "community": "street"}
TIER_WORDS = {"A": "A", "B": "B", "C": "C", "1": "A", "2": "B", "3": "C", "一": "A", "二": "B", "三": "C"}

_UPSERT_ADMIN = text(
    "INSERT INTO admin_area (level, code, name, parent_id, area_m2, geom) "
    "SELECT :level, u.code, u.name, u.parent_id, u.area_m2, ST_Multi(ST_GeomFromWKB(u.wkb, 4490)) "
    "FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:parent_id AS int[]), "
    "CAST(:area AS float8[]), CAST(:wkb AS bytea[])) AS u(code, name, parent_id, area_m2, wkb) "
    "ON CONFLICT (level, code) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id, "
    "area_m2 = EXCLUDED.area_m2, geom = EXCLUDED.geom RETURNING (xmax = 0) AS inserted"
)
_CANDIDATES = text(
    "SELECT code, ST_AsBinary(geom) AS wkb FROM admin_area "
    "WHERE level = :level AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)"
)


@dataclass
class ImportSummary:
    """What an import did, for the CLI to print and the plan report to keep."""

    path: str
    kind: str
    target: str
    fields: dict[str, str | None]
    features: int = 0
    written: int = 0
    inserted: int = 0
    updated: int = 0
    merged: list[dict] = field(default_factory=list)
    repaired: list[dict] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _field(gdf: gpd.GeoDataFrame, path: Path, given: str | None, guesses: tuple[str, ...], what: str, required: bool):
    """The column to use for ``what``: the one given (must exist) or the first guess found."""
    if given:
        require_fields(gdf, path, given)
        return given
    found = guess_field(gdf, guesses)
    if found is None and required:
        have = [str(c) for c in gdf.columns if c != gdf.geometry.name]
        raise InputError(
            f"{path}: no {what} field found (tried {', '.join(guesses)}); the file has: {', '.join(have) or '(none)'}"
            f"; name it with --{what}-field"
        )
    return found


def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip() or None


def _as_text(values: pd.Series) -> pd.Series:
    """Codes and names as strings: a dbf float ``420102001.0`` becomes ``420102001``; blanks become None."""
    return values.astype(object).map(_text)


def _codes(gdf: gpd.GeoDataFrame, column: str, path: Path) -> pd.Series:
    codes = _as_text(gdf[column])
    blank = codes.isna()
    if blank.any():
        rows = ", ".join(map(str, gdf.index[blank][:10]))
        raise InputError(f"{path}: feature(s) {rows} have no value in field {column!r}")
    long = codes.str.len() > CODE_MAX
    if long.any():
        row = gdf.index[long][0]
        raise InputError(
            f"{path}: feature {row}: code {codes[row]!r} in field {column!r} exceeds {CODE_MAX} characters"
        )
    return codes


def _repair(gdf: gpd.GeoDataFrame, codes: pd.Series, path: Path, summary: ImportSummary) -> gpd.GeoDataFrame:
    geoms, repair = repair_polygonal(gdf.geometry.values)
    if repair.empty.any():
        row = gdf.index[repair.empty][0]
        kind = gdf.geometry[row].geom_type
        raise InputError(f"{path}: feature {row} (code {codes[row]}) has no polygon area ({kind}); expected polygons")
    for i in np.flatnonzero(repair.invalid):
        summary.repaired.append({"feature": int(gdf.index[i]), "code": codes.iloc[i], "reason": repair.reasons[i]})
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=STORE_SRID))


def _merge(frame: gpd.GeoDataFrame, summary: ImportSummary, check: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """One row per code: features sharing a code are unioned; other columns take the first non-null value."""
    counts = frame["code"].value_counts()
    shared = counts[counts > 1]
    if shared.empty:
        return frame.reset_index(drop=True)
    for code, n in shared.items():
        summary.merged.append({"code": code, "features": int(n)})
        for col in check:
            values = frame.loc[frame["code"] == code, col].dropna().unique()
            if len(values) > 1:
                summary.warnings.append(f"code {code}: features disagree on {col} ({', '.join(map(str, values))})")
    dup = frame["code"].isin(shared.index)
    merged = frame[dup].dissolve(by="code", aggfunc="first", sort=False).reset_index()
    merged = merged.set_geometry(gpd.GeoSeries(repair_polygonal(merged.geometry.values)[0], crs=STORE_SRID))
    return pd.concat([frame[~dup], merged[frame.columns]], ignore_index=True)


def largest_overlap(session: Session, geoms: gpd.GeoSeries, level: str) -> tuple[np.ndarray, np.ndarray]:
    """For each geometry: the code of the ``level`` admin area covering most of it (None if none) and the share."""
    x0, y0, x1, y1 = (float(v) for v in geoms.total_bounds)
    rows = session.execute(_CANDIDATES, {"level": level, "x0": x0, "y0": y0, "x1": x1, "y1": y1}).all()
    best = np.full(len(geoms), None, dtype=object)
    share = np.zeros(len(geoms))
    if not rows:
        return best, share
    crs = metric_crs_for(gpd.GeoDataFrame(geometry=geoms))
    cand = gpd.GeoSeries(shapely.from_wkb([bytes(r.wkb) for r in rows]), crs=STORE_SRID).to_crs(crs).values
    mine = geoms.to_crs(crs).values
    child, parent = shapely.STRtree(np.asarray(cand)).query(np.asarray(mine), predicate="intersects")
    inter = shapely.area(shapely.intersection(np.asarray(mine)[child], np.asarray(cand)[parent]))
    pairs = pd.DataFrame({"child": child, "parent": parent, "area": inter})
    top = pairs.loc[pairs.groupby("child")["area"].idxmax()]
    top = top[top["area"] > 0]
    codes = np.array([r.code for r in rows], dtype=object)
    best[top["child"].to_numpy()] = codes[top["parent"].to_numpy()]
    share[top["child"].to_numpy()] = top["area"].to_numpy() / shapely.area(np.asarray(mine)[top["child"].to_numpy()])
    return best, share


def _read(path: str | Path, crs: str | None, encoding: str | None) -> tuple[Path, gpd.GeoDataFrame]:
    path = Path(path)
    return path, read_vector(path, crs=crs, encoding=encoding)


def _parent_ids(session: Session, frame: gpd.GeoDataFrame, level: str, path: Path, column: str | None, summary):
    """Parent ids by the parent-code field where it has a value, else by the largest spatial overlap."""
    parent_level = PARENT_LEVEL[level]
    if parent_level is None:
        return [None] * len(frame)
    wanted = frame["parent"].astype(object) if column else pd.Series(None, index=frame.index, dtype=object)
    wanted = wanted.where(wanted.notna(), None)
    blank = wanted.isna().to_numpy()
    if blank.any():
        wanted[blank] = largest_overlap(session, frame.geometry[blank], parent_level)[0]
    ids = dict(
        session.execute(
            text("SELECT code, id FROM admin_area WHERE level = :level AND code = ANY(:codes)"),
            {"level": parent_level, "codes": sorted(set(wanted.dropna()))},
        ).all()
    )
    unknown = wanted.notna() & ~wanted.isin(list(ids))
    if unknown.any():
        row = unknown.to_numpy().nonzero()[0][0]
        raise InputError(
            f"{path}: feature {frame['feature'].iloc[row]}: parent code {wanted.iloc[row]!r} in field {column!r} "
            f"is not a {parent_level} in the store; import the {parent_level} areas first"
        )
    summary.unmatched = frame["code"][wanted.isna().to_numpy()].tolist()
    if summary.unmatched:
        summary.warnings.append(f"{len(summary.unmatched)} {level} area(s) lie in no {parent_level} of the store")
    return [None if w is None else int(ids[w]) for w in wanted]


def import_admin(
    session: Session,
    path: str | Path,
    level: str,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    """Import (insert or update by level and code) the admin areas of ``level`` from ``path``."""
    if level not in ADMIN_LEVELS:
        raise InputError(f"unknown admin level {level!r}; one of {', '.join(ADMIN_LEVELS)}")
    path, gdf = _read(path, crs, encoding)
    code_col = _field(gdf, path, code_field, CODE_FIELDS, "code", True)
    name_col = _field(gdf, path, name_field, NAME_FIELDS, "name", True)
    parent_col = None
    if PARENT_LEVEL[level] is not None:
        parent_col = _field(gdf, path, parent_field, PARENT_FIELDS, "parent", False)
    summary = ImportSummary(str(path), "admin", level, {"code": code_col, "name": name_col, "parent": parent_col})
    if parent_field and PARENT_LEVEL[level] is None:
        summary.warnings.append(f"--parent-field {parent_field} ignored: a {level} has no parent")
    summary.features = len(gdf)
    codes = _codes(gdf, code_col, path)
    gdf = _repair(gdf, codes, path, summary)
    frame = gpd.GeoDataFrame(
        {
            "feature": gdf.index,
            "code": codes,
            "name": _as_text(gdf[name_col]).fillna(codes),
            "parent": _as_text(gdf[parent_col]) if parent_col else None,
        },
        geometry=gdf.geometry,
        crs=STORE_SRID,
    )
    frame = _merge(frame, summary, check=("parent",))
    parents = _parent_ids(session, frame, level, path, parent_col, summary)
    result = session.execute(
        _UPSERT_ADMIN,
        {
            "level": level,
            "code": frame["code"].tolist(),
            "name": frame["name"].tolist(),
            "parent_id": parents,
            "area": area_m2(frame.geometry).tolist(),
            "wkb": [bytes(b) for b in shapely.to_wkb(frame.geometry.values)],
        },
    ).all()
    summary.written = len(result)
    summary.inserted = sum(1 for r in result if r.inserted)
    summary.updated = summary.written - summary.inserted
    # Delivered at commit: map tile caches and locate indexes of running API workers refresh the admin layers.
    session.execute(text("SELECT pg_notify('geogrid_admin', :level)"), {"level": level})
    return summary


def _tiers(values: pd.Series | None, path: Path, column: str | None) -> pd.Series | None:
    """``A``/``B``/``C`` from ``A``, ``a``, ``A级``, ``1``, ``一级`` …; anything else is an error naming the row."""
    if values is None:
        return None
    raw = _as_text(values)
    first = raw.map(lambda v: None if pd.isna(v) else v.upper()[:1])
    tiers = first.map(TIER_WORDS.get)
    bad = raw.notna() & tiers.isna()
    if bad.any():
        row = values.index[bad][0]
        raise InputError(f"{path}: feature {row}: tier {raw[row]!r} in field {column!r} is not A, B or C")
    return tiers.where(raw.notna(), None)


def import_grids(
    session: Session,
    path: str | Path,
    layer: str,
    plan: str,
    code_field: str | None = None,
    name_field: str | None = None,
    tier_field: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    """Import the grids in ``path`` as a new draft plan ``plan`` of ``layer`` (created if missing)."""
    path, gdf = _read(path, crs, encoding)
    code_col = _field(gdf, path, code_field, CODE_FIELDS, "code", True)
    name_col = _field(gdf, path, name_field, NAME_FIELDS, "name", False)
    tier_col = _field(gdf, path, tier_field, TIER_FIELDS, "tier", False)
    fields = {"code": code_col, "name": name_col, "tier": tier_col}
    summary = ImportSummary(str(path), "grids", f"{layer}/{plan}", fields, features=len(gdf))
    codes = _codes(gdf, code_col, path)
    gdf = _repair(gdf, codes, path, summary)
    frame = gpd.GeoDataFrame(
        {
            "code": codes,
            "local_code": gdf[code_col].astype(object).map(lambda v: v if isinstance(v, str) else _text(v)),
            "name": _as_text(gdf[name_col]) if name_col else None,
            "tier": _tiers(gdf[tier_col], path, tier_col) if tier_col else None,
        },
        geometry=gdf.geometry,
        crs=STORE_SRID,
    )
    frame = _merge(frame, summary, check=("name", "tier"))
    community, share = largest_overlap(session, frame.geometry, "community")
    frame["community_code"] = community
    summary.unmatched = frame["code"][pd.isna(community)].tolist()
    if summary.unmatched and session.execute(text("SELECT count(*) FROM admin_area")).scalar_one():
        summary.warnings.append(f"{len(summary.unmatched)} grid(s) lie in no community of the store")
    summary.written = len(frame)
    save_draft_plan(session, frame, layer=layer, plan=plan, source=str(path), report={"import": summary.to_dict()})
    return summary
