"""Which collections exist: each layer's published plan, every plan version, and the admin levels.

Collection ids are prefixed so layer names, plan names and admin levels never collide:
``grids.<layer>`` (the layer's currently published plan), ``plan.<plan name>`` (one plan version; drafts only for
planners) and ``admin.<district|street|community>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from geogrid.store.models import ADMIN_LEVELS

ADMIN_TITLES = {
    "district": "区/县 districts",
    "street": "街道/乡镇 streets and townships",
    "community": "社区/村 communities",
}
DRAFT_ROLES = frozenset({"planner", "admin"})


@dataclass(frozen=True)
class Collection:
    """One servable collection and the facts needed to query it without another catalogue lookup."""

    id: str
    kind: str  # "grids" or "admin"
    title: str
    description: str = ""
    plan_id: int | None = None
    plan_name: str | None = None
    layer: str | None = None
    version: int | None = None
    status: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    level: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    features: int = 0
    report: dict | None = field(default=None, compare=False, hash=False)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def stable(self) -> bool:
        """True when the content never changes under this id (a plan version that is no longer a draft)."""
        return self.kind == "grids" and self.id.startswith("plan.") and not self.is_draft

    @property
    def tile_layer(self) -> str:
        """The layer name inside the vector tiles: ``grids`` for every plan, the level for admin areas."""
        return "grids" if self.kind == "grids" else (self.level or "admin")


_PLANS_SQL = """
SELECT p.id, p.name, p.version, p.status, p.valid_from, p.valid_to, p.report,
       l.name AS layer, coalesce(l.title, l.name) AS layer_title, l.description,
       b.xmin, b.ymin, b.xmax, b.ymax, b.n
FROM plan p JOIN grid_layer l ON l.id = p.layer_id
LEFT JOIN LATERAL (
    SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax, n
    FROM (SELECT ST_Extent(g.geom)::geometry AS e, count(*) AS n FROM grid g WHERE g.plan_id = p.id) x
) b ON true
ORDER BY l.name, p.version
"""


def _bbox(row) -> tuple[float, float, float, float] | None:
    return None if row.xmin is None else (row.xmin, row.ymin, row.xmax, row.ymax)


def load_catalog(session: Session) -> dict[str, Collection]:
    """Every collection in the store, drafts included (callers filter by role)."""
    out: dict[str, Collection] = {}
    for r in session.execute(text(_PLANS_SQL)):
        common = dict(
            kind="grids",
            plan_id=r.id,
            plan_name=r.name,
            layer=r.layer,
            version=r.version,
            status=r.status,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            bbox=_bbox(r),
            features=r.n or 0,
            report=r.report,
        )
        out[f"plan.{r.name}"] = Collection(
            id=f"plan.{r.name}",
            title=f"{r.layer_title} v{r.version} ({r.status}): {r.name}",
            description=r.description or "",
            **common,
        )
        if r.status == "published":
            out[f"grids.{r.layer}"] = Collection(
                id=f"grids.{r.layer}",
                title=f"{r.layer_title} (published plan {r.name}, v{r.version})",
                description=r.description or "",
                **common,
            )
    for r in session.execute(
        text(
            "SELECT level, ST_XMin(e) xmin, ST_YMin(e) ymin, ST_XMax(e) xmax, ST_YMax(e) ymax, n FROM "
            "(SELECT level, ST_Extent(geom)::geometry e, count(*) n FROM admin_area GROUP BY level) a"
        )
    ):
        if r.level in ADMIN_LEVELS:
            out[f"admin.{r.level}"] = Collection(
                id=f"admin.{r.level}",
                kind="admin",
                title=ADMIN_TITLES[r.level],
                level=r.level,
                bbox=_bbox(r),
                features=r.n,
            )
    for level in ADMIN_LEVELS:  # admin levels exist as (possibly empty) collections before any import
        out.setdefault(
            f"admin.{level}", Collection(id=f"admin.{level}", kind="admin", title=ADMIN_TITLES[level], level=level)
        )
    return out


def visible(collection: Collection, role: str) -> bool:
    """Drafts are work in progress: only planners (and admins) see them."""
    return not collection.is_draft or role in DRAFT_ROLES


def ordered(catalog: dict[str, Collection]) -> list[Collection]:
    """Published layers first, then plan versions, then admin levels: the order a map switcher wants."""
    rank = {"grids": 0, "plan": 1, "admin": 2}
    return sorted(catalog.values(), key=lambda c: (rank[c.id.split(".", 1)[0]], c.layer or "", c.version or 0, c.id))
