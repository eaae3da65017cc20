"""Routing configuration in memory: rules, time limits, owner units, duty rules and duty sites, one object per
store version (``store_version.routing``), loaded with the locate index so that intake routes without a query.

The rows are few (hundreds); reading them per report cost five round trips. They change only through writes that
bump the ``routing`` counter (migration 0400), and the index watcher reloads them on that signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.routing.catalogue import LimitData, RuleData, default_limits, default_rules, stored_limits, stored_rules
from geogrid.supervision.duty import Match, choose
from geogrid.supervision.models import DutyRule

_UNITS = text("SELECT id, code, name FROM unit")
_SITES = text("SELECT id, kind, ST_Area(geography(geom)) AS area, ST_AsBinary(geom) AS wkb FROM duty_site ORDER BY id")
_LAYERS = text("SELECT id, name FROM grid_layer")


@dataclass
class Rulebook:
    """Everything routing and duty refinement read from the store, as of one version."""

    rules: list[RuleData]
    limits: list[LimitData]
    units_by_code: dict[str, dict[str, Any]]
    units_by_id: dict[int, dict[str, Any]]
    duty_rules: list[DutyRule]
    site_ids: np.ndarray
    site_kinds: list[str]
    site_areas: np.ndarray
    site_tree: shapely.STRtree
    layer_ids: dict[str, int]
    defaults: tuple[list[RuleData], list[LimitData]] = field(default_factory=lambda: (default_rules(), []))

    @classmethod
    def load(cls, conn) -> Rulebook:
        """Read it all on ``conn`` (the index build's REPEATABLE READ transaction)."""
        session = Session(bind=conn)
        try:
            rules, limits = stored_rules(session), stored_limits(session)
        finally:
            session.close()
        duty = [_DutyRow.of(r._mapping) for r in conn.execute(DutyRule.__table__.select().order_by(DutyRule.id))]
        units = [dict(r._mapping) for r in conn.execute(_UNITS)]
        sites = conn.execute(_SITES).all()
        geoms = shapely.from_wkb([bytes(s.wkb) for s in sites]) if sites else np.array([], dtype=object)
        shapely.prepare(geoms)
        return cls(
            rules=rules,
            limits=limits,
            units_by_code={u["code"]: u for u in units},
            units_by_id={u["id"]: u for u in units},
            duty_rules=duty,
            site_ids=np.array([s.id for s in sites], dtype=np.int64),
            site_kinds=[s.kind for s in sites],
            site_areas=np.array([float(s.area or 0.0) for s in sites]),
            site_tree=shapely.STRtree(geoms),
            layer_ids={r.name: r.id for r in conn.execute(_LAYERS)},
            defaults=(default_rules(), default_limits()),
        )

    def owner(self, code: str | None) -> dict[str, Any] | None:
        unit = self.units_by_code.get(code) if code else None
        return None if unit is None else {"id": unit["id"], "code": unit["code"], "name": unit["name"]}

    def duty_matches(self, layer: str | None, grid_code: str | None, lon: float, lat: float, category: str) -> list:
        """``geogrid.supervision.duty.matching_rules`` without a query: same scopes, same order."""
        kind, code = category.split(":")
        hits = self.site_tree.query(shapely.Point(lon, lat), predicate="covered_by")
        site_area = {int(self.site_ids[i]): float(self.site_areas[i]) for i in hits}
        kind_area: dict[str, float] = {}
        for i in hits:
            k, a = self.site_kinds[i], float(self.site_areas[i])
            kind_area[k] = min(a, kind_area.get(k, a))
        layer_id = self.layer_ids.get(layer) if layer is not None else None
        out = []
        for rule in self.duty_rules:
            if rule.kind is not None and not (rule.kind == kind and rule.code in ("", code[:2], code)):
                continue
            if rule.scope == "site" and rule.site_id in site_area:
                place = site_area[rule.site_id]
            elif rule.scope == "site_kind" and rule.site_kind in kind_area:
                place = kind_area[rule.site_kind]
            elif (
                rule.scope == "grid"
                and grid_code is not None
                and (rule.layer_id, rule.grid_code)
                == (
                    layer_id,
                    grid_code,
                )
            ):
                place = 0.0
            else:
                continue
            unit = self.units_by_id.get(rule.unit_id) or {"code": None, "name": None}
            out.append(Match(rule, {"id": rule.unit_id, "code": unit["code"], "name": unit["name"]}, place))
        return sorted(out, key=lambda m: m.key)

    def choose_duty(self, layer: str | None, grid_code: str | None, lon: float, lat: float, category: str):
        return choose(self.duty_matches(layer, grid_code, lon, lat, category))


@dataclass(frozen=True)
class _DutyRow:
    """A duty rule row detached from any session (what ``Match`` and ``choose`` read)."""

    id: int
    scope: str
    layer_id: int | None
    grid_code: str | None
    site_id: int | None
    site_kind: str | None
    kind: str | None
    code: str
    unit_id: int
    role: str

    @classmethod
    def of(cls, row) -> _DutyRow:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})
