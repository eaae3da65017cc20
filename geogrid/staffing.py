"""Staffing rules for grid assignments (seeds: one 网格长 per grid, 2–3 members, ≥ 2, ≥ 5 …), as configuration.

- ``roles``: the roles a person may hold in a grid (``GEOGRID_STAFF_ROLES``, comma-separated; default
  ``store.models.PERSON_ROLES``);
- ``single_roles``: roles at most one person holds per grid (``GEOGRID_STAFF_SINGLE_ROLES``, default 网格长);
- ``min_members``: distinct people a grid needs (``GEOGRID_STAFF_MIN_MEMBERS``, default 2).

``check_assignment`` guards each new assignment (the grid must exist in a live plan of the layer; a second holder
of a single role is refused under a per-grid advisory lock, so two concurrent requests cannot both pass).
``staffing_report`` checks the whole layer: grids without a chief, with two, under-staffed, and assignments to
grids or roles that do not exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geogrid.store.models import PERSON_ROLES, Grid, GridAssignment, GridLayer, Plan


@dataclass(frozen=True)
class StaffingSettings:
    roles: tuple[str, ...] = PERSON_ROLES
    single_roles: tuple[str, ...] = ("网格长",)
    min_members: int = 2

    @classmethod
    def from_env(cls) -> StaffingSettings:
        def listed(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = os.environ.get(name)
            return default if raw is None else tuple(r.strip() for r in raw.split(",") if r.strip())

        return cls(
            roles=listed("GEOGRID_STAFF_ROLES", cls.roles),
            single_roles=listed("GEOGRID_STAFF_SINGLE_ROLES", cls.single_roles),
            min_members=int(os.environ.get("GEOGRID_STAFF_MIN_MEMBERS", cls.min_members)),
        )


class StaffingError(ValueError):
    """An assignment the rules refuse; ``conflict`` distinguishes 409 (a rule between rows) from 422 (bad value)."""

    def __init__(self, field: str, reason: str, conflict: bool = False) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.conflict = field, reason, conflict


def live_grid_codes(layer_id: int):
    """Codes of grids in the layer's published or draft plans (staff may be named before a plan goes live)."""
    return (
        select(Grid.code)
        .join(Plan, Plan.id == Grid.plan_id)
        .where(Plan.layer_id == layer_id, Plan.status.in_(("published", "draft")))
    )


def check_assignment(session: Session, layer_id: int, grid_code: str, role: str, settings: StaffingSettings) -> None:
    if role not in settings.roles:
        raise StaffingError("role", f"{role!r} is not a grid role; one of {', '.join(settings.roles)}")
    if session.scalar(live_grid_codes(layer_id).where(Grid.code == grid_code).limit(1)) is None:
        raise StaffingError("grid_code", f"no grid {grid_code!r} in a published or draft plan of the layer")
    if role in settings.single_roles:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"staff:{layer_id}:{grid_code}"})
        holder = session.scalar(
            select(GridAssignment.person_id).where(
                GridAssignment.layer_id == layer_id, GridAssignment.grid_code == grid_code, GridAssignment.role == role
            )
        )
        if holder is not None:
            raise StaffingError("role", f"grid {grid_code} already has a {role} (person {holder})", conflict=True)


REPORT = text("""
WITH g AS (
  SELECT g.code, g.tier FROM grid g JOIN plan p ON p.id = g.plan_id AND p.status = 'published' WHERE p.layer_id = :l
), a AS (
  SELECT grid_code, count(DISTINCT person_id) AS members,
         jsonb_object_agg(role, n) AS roles
  FROM (SELECT grid_code, person_id, role, count(*) OVER (PARTITION BY grid_code, role) AS n
        FROM grid_assignment WHERE layer_id = :l) x
  GROUP BY grid_code
)
SELECT g.code, g.tier, COALESCE(a.members, 0) AS members, COALESCE(a.roles, '{}'::jsonb) AS roles
FROM g LEFT JOIN a ON a.grid_code = g.code ORDER BY g.code
""")


def _problems(roles: dict, members: int, settings: StaffingSettings) -> list[str]:
    out = []
    for role in settings.single_roles:
        count = int(roles.get(role, 0))
        if count == 0:
            out.append(f"no {role}")
        elif count > 1:
            out.append(f"{count} × {role} (at most 1)")
    if members < settings.min_members:
        out.append(f"{members} member(s), fewer than {settings.min_members}")
    out += [f"unknown role {r!r}" for r in roles if r not in settings.roles]
    return out


def staffing_report(session: Session, layer: str, settings: StaffingSettings) -> dict:
    """Every published grid of ``layer`` with its members and problems, plus assignments to no live grid."""
    layer_id = session.scalar(select(GridLayer.id).where(GridLayer.name == layer))
    if layer_id is None:
        raise StaffingError("layer", f"no grid layer named {layer!r}")
    grids = []
    for r in session.execute(REPORT, {"l": layer_id}).mappings():
        problems = _problems(dict(r["roles"]), int(r["members"]), settings)
        grids.append({"grid_code": r["code"], "tier": r["tier"], "members": int(r["members"]),
                      "roles": dict(r["roles"]), "problems": problems, "ok": not problems})  # fmt: skip
    orphans = session.execute(
        select(GridAssignment.id, GridAssignment.grid_code, GridAssignment.role).where(
            GridAssignment.layer_id == layer_id, GridAssignment.grid_code.not_in(live_grid_codes(layer_id))
        )
    ).all()
    return {
        "layer": layer,
        "rules": {"roles": list(settings.roles), "single_roles": list(settings.single_roles),
                  "min_members": settings.min_members},
        "grids": grids,
        "grids_with_problems": sum(not g["ok"] for g in grids),
        "orphan_assignments": [{"id": i, "grid_code": c, "role": role} for i, c, role in orphans],
    }  # fmt: skip
