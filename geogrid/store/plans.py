"""Versioned plans of a grid layer: save a draft, publish it atomically, list, retire.

Publishing retires the layer's current plan and publishes the new one in ONE transaction, after taking a row lock
on the layer (``SELECT … FOR UPDATE``): two publishers of one layer queue behind each other, and readers (plain
READ COMMITTED statements) see either the old or the new published plan, never none and never two. The same
transaction sends ``pg_notify('geogrid_plans', <layer>)``; PostgreSQL delivers it at commit, so listeners rebuild
their indexes only once the new plan is visible.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geogrid.crs import to_store
from geogrid.metrics.size import area_m2, diameter_m
from geogrid.store.db import session_scope
from geogrid.store.models import TIERS, Grid, GridLayer, Plan
from geogrid.validation import build_report, find_plan, repair_polygonal

NOTIFY_CHANNEL = "geogrid_plans"
CODE_MAX, LOCAL_CODE_MAX = 32, 64

_INSERT_GRIDS = text(
    "INSERT INTO grid (plan_id, code, local_code, name, tier, community_id, area_m2, diameter_m, geom) "
    "SELECT :plan, u.code, u.local_code, u.name, u.tier, u.community_id, u.area_m2, u.diameter_m, "
    "ST_Multi(ST_GeomFromWKB(u.wkb, 4490)) FROM unnest(CAST(:code AS text[]), CAST(:local_code AS text[]), "
    "CAST(:name AS text[]), CAST(:tier AS text[]), CAST(:community_id AS int[]), CAST(:area AS float8[]), "
    "CAST(:diameter AS float8[]), CAST(:wkb AS bytea[])) "
    "AS u(code, local_code, name, tier, community_id, area_m2, diameter_m, wkb)"
)


class PublishRefused(ValueError):
    """The plan has overlaps or community crossings; the message lists them and mentions ``force``."""


@dataclass
class PublishResult:
    plan: str
    layer: str
    version: int
    valid_from: datetime | None
    retired: str | None = None
    changed: bool = True
    forced: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _texts(values: pd.Series | None, n: int, strip: bool = True) -> list[str | None]:
    if values is None:
        return [None] * n
    return [None if pd.isna(v) or str(v).strip() == "" else (str(v).strip() if strip else str(v)) for v in values]


def _check_codes(codes: list[str | None], local: list[str | None]) -> None:
    if any(c is None for c in codes):
        raise ValueError(f"{sum(c is None for c in codes)} grid(s) have no code")
    dup = pd.Series(codes)[pd.Series(codes).duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"duplicate grid codes in one plan: {', '.join(dup[:10])}")
    too_long = [c for c in codes if len(c) > CODE_MAX] + [c for c in local if c and len(c) > LOCAL_CODE_MAX]
    if too_long:
        raise ValueError(f"grid code too long (max {CODE_MAX} characters): {too_long[0]!r}")


def _tiers(values: pd.Series | None, n: int) -> list[str | None]:
    tiers = _texts(values, n)
    bad = sorted({t for t in tiers if t is not None and t not in TIERS})
    if bad:
        raise ValueError(f"unknown grid tier(s) {', '.join(map(repr, bad))}; expected one of {', '.join(TIERS)}")
    return tiers


def _community_ids(session: Session, values: pd.Series | None, n: int) -> list[int | None]:
    codes = _texts(values, n)
    wanted = sorted({c for c in codes if c is not None})
    if not wanted:
        return [None] * n
    rows = session.execute(
        text("SELECT code, id FROM admin_area WHERE level = 'community' AND code = ANY(:codes)"), {"codes": wanted}
    ).all()
    known = dict(rows)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ValueError(f"unknown community code(s) {', '.join(unknown[:10])}: import the communities first")
    return [known.get(c) for c in codes]


def _metric(grids: gpd.GeoDataFrame, column: str, compute) -> list[float]:
    values = grids[column].to_numpy(dtype=float) if column in grids else np.full(len(grids), np.nan)
    missing = np.isnan(values)
    if missing.any():
        values[missing] = compute(grids.geometry[missing])
    return values.tolist()


def _plain(value):
    """numpy scalars and arrays (as partition reports carry them) to JSON-able Python values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    return str(value)


def lock_layer(session: Session, layer: str, *, create: bool = False) -> GridLayer:
    """The layer row, locked for this transaction (created first when ``create``)."""
    if create:
        session.execute(text("INSERT INTO grid_layer (name) VALUES (:n) ON CONFLICT (name) DO NOTHING"), {"n": layer})
    found = session.scalar(select(GridLayer).where(GridLayer.name == layer).with_for_update())
    if found is None:
        raise ValueError(f"unknown layer {layer!r}")
    return found


def save_draft_plan(
    session: Session,
    grids: gpd.GeoDataFrame,
    *,
    layer: str,
    plan: str,
    source: str | None = None,
    report: dict | None = None,
) -> Plan:
    """Store ``grids`` as a new draft plan: the next version of ``layer`` (created if missing).

    A frame without a CRS is taken as the store CRS. Geometries are repaired (polygonal part of make_valid).
    """
    existing = session.scalar(select(Plan).where(Plan.name == plan))
    if existing is not None:
        state = f"version {existing.version}, {existing.status}"
        raise ValueError(f"plan {plan!r} exists already ({state}); choose another name")
    if grids.empty:
        raise ValueError(f"plan {plan!r}: no grids to save")
    if "code" not in grids:
        raise ValueError(f"plan {plan!r}: the grids have no 'code' column")
    n = len(grids)
    stored = to_store(grids if grids.crs is not None else grids.set_crs(4490))
    geoms, repair = repair_polygonal(stored.geometry.values)
    codes = _texts(stored["code"], n)
    if repair.empty.any():
        bad = [codes[i] for i in np.flatnonzero(repair.empty)[:10]]
        raise ValueError(f"plan {plan!r}: grid(s) without any area: {', '.join(map(str, bad))}")
    stored = stored.set_geometry(gpd.GeoSeries(geoms, index=stored.index, crs=4490))
    local = _texts(stored.get("local_code"), n, strip=False)
    _check_codes(codes, local)
    columns = {
        "code": codes,
        "local_code": local,
        "name": _texts(stored.get("name"), n),
        "tier": _tiers(stored.get("tier"), n),
        "community_id": _community_ids(session, stored.get("community_code"), n),
        "area": _metric(stored, "area_m2", area_m2),
        "diameter": _metric(stored, "diameter_m", diameter_m),
        "wkb": [bytes(b) for b in shapely.to_wkb(geoms)],
    }
    layer_row = lock_layer(session, layer, create=True)
    version = (session.scalar(select(func.max(Plan.version)).where(Plan.layer_id == layer_row.id)) or 0) + 1
    report = json.loads(json.dumps(report, default=_plain)) if report is not None else None
    draft = Plan(name=plan, layer_id=layer_row.id, version=version, status="draft", source=source, report=report)
    session.add(draft)
    session.flush()
    session.execute(_INSERT_GRIDS, {"plan": draft.id, **columns})
    return draft


def _publish(session: Session, name: str, force: bool) -> PublishResult:
    plan = find_plan(session, name)
    layer = lock_layer(session, plan.layer.name)
    session.refresh(plan)
    if plan.status == "published":
        return PublishResult(plan.name, layer.name, plan.version, plan.valid_from, changed=False)
    report = build_report(session, plan)
    plan.report = {**(plan.report or {}), "validation": report}
    blocking = report.get("blocking") or []
    if blocking and not force:
        raise PublishRefused(
            f"plan {name!r} not published: {'; '.join(blocking)}. Run `geogrid plan validate {name}` for the "
            "locations, fix the grids, or publish anyway with --force"
        )
    session.flush()
    retired = session.execute(
        text(
            "UPDATE plan SET status = 'retired', valid_to = now() "
            "WHERE layer_id = :layer AND status = 'published' RETURNING name"
        ),
        {"layer": layer.id},
    ).scalar()
    session.execute(
        text("UPDATE plan SET status = 'published', valid_from = now(), valid_to = NULL WHERE id = :id"),
        {"id": plan.id},
    )
    session.execute(text("SELECT pg_notify(:channel, :layer)"), {"channel": NOTIFY_CHANNEL, "layer": layer.name})
    session.refresh(plan)
    return PublishResult(
        plan.name, layer.name, plan.version, plan.valid_from, retired=retired, forced=bool(blocking), warnings=blocking
    )


def publish_plan(session_or_url: Session | str | None, name: str, force: bool = False) -> PublishResult:
    """Publish plan ``name`` (retiring the layer's current one); refuse overlaps or crossings unless ``force``.

    With a Session the caller commits; with a URL (or None: the configured store) this commits itself.
    """
    if isinstance(session_or_url, Session):
        return _publish(session_or_url, name, force)
    with session_scope(session_or_url) as session:
        return _publish(session, name, force)


def retire(session_or_url: Session | str | None, name: str) -> Plan:
    """Retire plan ``name`` (a published plan gets valid_to = now); the layer is left without a published plan."""
    if not isinstance(session_or_url, Session):
        with session_scope(session_or_url) as session:
            return retire(session, name)
    session = session_or_url
    plan = find_plan(session, name)
    lock_layer(session, plan.layer.name)
    session.refresh(plan)
    if plan.status != "retired":
        if plan.status == "published":
            plan.valid_to = session.scalar(select(func.now()))
        plan.status = "retired"
        session.flush()
    return plan


def list_plans(session: Session, layer: str | None = None) -> list[dict]:
    """Every plan (optionally of one layer), newest version first per layer, with grid counts."""
    count = select(func.count(Grid.id)).where(Grid.plan_id == Plan.id).scalar_subquery()
    query = select(Plan, GridLayer.name, count).join(GridLayer, Plan.layer_id == GridLayer.id)
    if layer is not None:
        query = query.where(GridLayer.name == layer)
    rows = session.execute(query.order_by(GridLayer.name, Plan.version.desc())).all()
    out = []
    for plan, layer_name, grids in rows:
        summary = ((plan.report or {}).get("validation") or {}).get("summary")
        out.append(
            {
                "name": plan.name,
                "layer": layer_name,
                "version": plan.version,
                "status": plan.status,
                "grids": grids,
                "valid_from": plan.valid_from,
                "valid_to": plan.valid_to,
                "created_at": plan.created_at,
                "source": plan.source,
                "validation": summary,
            }
        )
    return out
