"""The directory: units, people, grid assignments, grid responsibility, routing rules and time limits.

Reads are open except people's phone numbers, which only operator, unit and admin callers see (personal data,
seeds/001). Writes need operator or admin. Every write commits, refreshes this worker's locate index at once and
sends ``pg_notify('geogrid_directory')`` so the other workers follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Caller, current_caller, require_roles
from api.db import get_session
from api.errors import Conflict, InvalidInput, NotFound
from api.routers.locate import _json, invalid, locate_index
from geogrid.routing.catalogue import CatalogueError, import_catalogue, parse_limit, parse_rule, read_catalogue_text
from geogrid.routing.models import GridResponsibility, RoutingRule, TimeLimit
from geogrid.staffing import StaffingError, StaffingSettings, check_assignment
from geogrid.store.models import AdminArea, GridAssignment, GridLayer, Person, Unit

router = APIRouter(prefix="/v1", tags=["directory"])
WRITERS = ("operator",)
SEE_PHONES = {"operator", "unit", "admin"}
WRITE = Depends(require_roles(*WRITERS))


# ---- helpers -------------------------------------------------------------------------------------------------
def _commit(session: Session, request: Request) -> None:
    """Commit, tell other workers, refresh this worker now (so a following locate sees the change)."""
    try:
        session.flush()
        session.execute(text("SELECT pg_notify('geogrid_directory', 'changed')"))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("the change conflicts with existing data", [{"field": "body", "reason": _pg(exc)}]) from None
    locate_index(request).refresh()


def _pg(exc: IntegrityError) -> str:
    return str(exc.orig).strip().splitlines()[0]


def _get(session: Session, model: type, id_: int, what: str) -> Any:
    row = session.get(model, id_)
    if row is None:
        raise NotFound(f"no {what} with id {id_}", [{"field": "id", "reason": "not found"}])
    return row


def _layer_id(session: Session, name: str) -> int:
    lid = session.scalar(select(GridLayer.id).where(GridLayer.name == name))
    if lid is None:
        raise invalid("layer", f"no grid layer named {name!r}")
    return lid


def _check_fk(session: Session, model: type, id_: int | None, field: str) -> None:
    if id_ is not None and session.get(model, id_) is None:
        raise invalid(field, f"no {model.__tablename__} with id {id_}")


def _area_id(session: Session, area_id: int | None, code: str | None, level: str | None) -> int | None:
    if code is None:
        _check_fk(session, AdminArea, area_id, "admin_area_id")
        return area_id
    query = select(AdminArea.id).where(AdminArea.code == code)
    if level is not None:
        query = query.where(AdminArea.level == level)
    ids = session.scalars(query).all()
    if not ids:
        raise invalid("admin_area_code", f"no admin area with code {code!r}")
    if len(ids) > 1:
        raise invalid("admin_area_level", f"code {code!r} exists at several levels; give admin_area_level")
    return ids[0]


def _unit(u: Unit) -> dict[str, Any]:
    return {
        "id": u.id,
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "parent_id": u.parent_id,
        "admin_area_id": u.admin_area_id,
    }


def _person(p: Person, caller: Caller) -> dict[str, Any]:
    out = {"id": p.id, "name": p.name, "unit_id": p.unit_id}
    if caller.role in SEE_PHONES and not caller.is_public:
        out["phone"] = p.phone
    return out


# ---- units ---------------------------------------------------------------------------------------------------
class UnitIn(BaseModel):
    code: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1)
    kind: str = Field("department", max_length=32, description="department | territorial | company | …")
    parent_id: int | None = None
    admin_area_id: int | None = Field(None, description="territory it answers for (属地)")
    admin_area_code: str | None = Field(None, description="instead of admin_area_id")
    admin_area_level: str | None = Field(None, description="district | street | community, if the code is ambiguous")


class UnitPatch(BaseModel):
    name: str | None = None
    kind: str | None = None
    parent_id: int | None = None
    admin_area_id: int | None = None
    admin_area_code: str | None = None
    admin_area_level: str | None = None


def add_delete_route(prefix: str, model: type, label: str) -> None:
    """Route factory: ``DELETE {prefix}/{id}`` for a directory table, guarded like every write."""

    def delete(row_id: int, request: Request, session: Session = Depends(get_session), _: Caller = WRITE) -> Response:
        session.delete(_get(session, model, row_id, label))
        _commit(session, request)
        return Response(status_code=204)

    router.add_api_route(
        f"{prefix}/{{row_id}}",
        delete,
        methods=["DELETE"],
        status_code=204,
        name=f"delete {label}",
        summary=f"Delete a {label}",
    )


@dataclass(frozen=True)
class Page:
    """``offset``/``limit`` of a directory list (every list honours them; no limit: the whole list)."""

    offset: int = 0
    limit: int | None = None

    def apply(self, stmt: Select) -> Select:
        return stmt.offset(self.offset).limit(self.limit)


def page(
    offset: int = Query(0, ge=0, le=2**53, description="rows to skip"),
    limit: int | None = Query(None, ge=1, le=100_000, description="rows to return (default: all)"),
) -> Page:
    return Page(offset, limit)


@router.get("/units")
def list_units(session: Session = Depends(get_session), paging: Page = Depends(page)) -> Response:
    return _json([_unit(u) for u in session.scalars(paging.apply(select(Unit).order_by(Unit.code)))])


@router.get("/units/{unit_id}")
def get_unit(unit_id: int, session: Session = Depends(get_session)) -> Response:
    return _json(_unit(_get(session, Unit, unit_id, "unit")))


@router.post("/units", status_code=201)
def create_unit(
    body: UnitIn,
    request: Request,
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    if session.scalar(select(Unit.id).where(Unit.code == body.code)) is not None:
        raise Conflict(f"unit code {body.code!r} exists", [{"field": "code", "reason": "already used"}])
    _check_fk(session, Unit, body.parent_id, "parent_id")
    area = _area_id(session, body.admin_area_id, body.admin_area_code, body.admin_area_level)
    unit = Unit(code=body.code, name=body.name, kind=body.kind, parent_id=body.parent_id, admin_area_id=area)
    session.add(unit)
    session.flush()
    _commit(session, request)
    return Response(_json(_unit(unit)).body, status_code=201, media_type="application/json")


@router.patch("/units/{unit_id}")
def patch_unit(
    unit_id: int,
    body: UnitPatch,
    request: Request,
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    unit = _get(session, Unit, unit_id, "unit")
    fields = body.model_dump(exclude_unset=True)
    if "parent_id" in fields:
        _check_fk(session, Unit, body.parent_id, "parent_id")
        unit.parent_id = body.parent_id
    if "admin_area_id" in fields or "admin_area_code" in fields:
        unit.admin_area_id = _area_id(session, body.admin_area_id, body.admin_area_code, body.admin_area_level)
    for key in ("name", "kind"):
        if fields.get(key) is not None:
            setattr(unit, key, fields[key])
    _commit(session, request)
    return _json(_unit(unit))


add_delete_route("/units", Unit, "unit")


# ---- people --------------------------------------------------------------------------------------------------
class PersonIn(BaseModel):
    name: str = Field(..., min_length=1)
    phone: str | None = Field(None, max_length=32, description="personal data: never shown to public callers")
    unit_id: int | None = None
    unit_code: str | None = Field(None, description="instead of unit_id")


class PersonPatch(BaseModel):
    name: str | None = None
    phone: str | None = Field(None, max_length=32)
    unit_id: int | None = None


@router.get("/people")
def list_people(
    session: Session = Depends(get_session), caller: Caller = Depends(current_caller), paging: Page = Depends(page)
) -> Response:
    return _json([_person(p, caller) for p in session.scalars(paging.apply(select(Person).order_by(Person.id)))])


@router.get("/people/{person_id}")
def get_person(
    person_id: int, session: Session = Depends(get_session), caller: Caller = Depends(current_caller)
) -> Response:
    return _json(_person(_get(session, Person, person_id, "person"), caller))


@router.post("/people", status_code=201)
def create_person(
    body: PersonIn,
    request: Request,
    session: Session = Depends(get_session),
    caller: Caller = WRITE,
) -> Response:
    unit_id = _unit_id(session, body.unit_id, body.unit_code, required=False)
    person = Person(name=body.name, phone=body.phone, unit_id=unit_id)
    session.add(person)
    session.flush()
    _commit(session, request)
    return Response(_json(_person(person, caller)).body, status_code=201, media_type="application/json")


@router.patch("/people/{person_id}")
def patch_person(
    person_id: int,
    body: PersonPatch,
    request: Request,
    session: Session = Depends(get_session),
    caller: Caller = WRITE,
) -> Response:
    person = _get(session, Person, person_id, "person")
    fields = body.model_dump(exclude_unset=True)
    if "unit_id" in fields:
        _check_fk(session, Unit, body.unit_id, "unit_id")
    for key, value in fields.items():
        setattr(person, key, value)
    _commit(session, request)
    return _json(_person(person, caller))


add_delete_route("/people", Person, "person")


# ---- grid assignments and grid responsibility ---------------------------------------------------------------
class AssignmentIn(BaseModel):
    layer: str
    grid_code: str = Field(..., min_length=1, max_length=32)
    person_id: int
    role: str = Field(..., min_length=1, max_length=32, description="网格长, 网格员, …")


class ResponsibilityIn(BaseModel):
    layer: str
    grid_code: str = Field(..., min_length=1, max_length=32)
    unit_id: int | None = None
    unit_code: str | None = Field(None, description="instead of unit_id")


def _unit_id(session: Session, unit_id: int | None, unit_code: str | None, required: bool) -> int | None:
    """A unit given by id or by code, checked to exist."""
    if unit_code is not None:
        uid = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if uid is None:
            raise invalid("unit_code", f"no unit with code {unit_code!r}")
        return uid
    if unit_id is None and required:
        raise invalid("unit_id", "give unit_id or unit_code")
    _check_fk(session, Unit, unit_id, "unit_id")
    return unit_id


def _layer_names(session: Session) -> dict[int, str]:
    return {lid: name for lid, name in session.execute(select(GridLayer.id, GridLayer.name))}


@router.get("/assignments")
def list_assignments(
    layer: str | None = Query(None),
    grid_code: str | None = Query(None),
    session: Session = Depends(get_session),
    paging: Page = Depends(page),
) -> Response:
    query = select(GridAssignment, Person.name).join(Person, Person.id == GridAssignment.person_id)
    if layer is not None:
        query = query.where(GridAssignment.layer_id == _layer_id(session, layer))
    if grid_code is not None:
        query = query.where(GridAssignment.grid_code == grid_code)
    names = _layer_names(session)
    rows = session.execute(paging.apply(query.order_by(GridAssignment.id))).all()
    return _json(
        [
            {
                "id": a.id,
                "layer": names[a.layer_id],
                "grid_code": a.grid_code,
                "person_id": a.person_id,
                "person": name,
                "role": a.role,
            }  # fmt: skip
            for a, name in rows
        ]
    )


@router.post("/assignments", status_code=201)
def create_assignment(
    body: AssignmentIn,
    request: Request,
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    layer_id = _layer_id(session, body.layer)
    _check_fk(session, Person, body.person_id, "person_id")
    try:
        check_assignment(session, layer_id, body.grid_code, body.role, StaffingSettings.from_env())
    except StaffingError as exc:
        raise (Conflict if exc.conflict else InvalidInput)(
            str(exc), [{"field": exc.field, "reason": exc.reason}]
        ) from None
    row = GridAssignment(layer_id=layer_id, grid_code=body.grid_code, person_id=body.person_id, role=body.role)
    session.add(row)
    _commit(session, request)
    payload = {"id": row.id, **body.model_dump()}
    return Response(_json(payload).body, status_code=201, media_type="application/json")


add_delete_route("/assignments", GridAssignment, "assignment")


@router.get("/grid-responsibilities")
def list_responsibilities(session: Session = Depends(get_session)) -> Response:
    names = _layer_names(session)
    rows = session.scalars(select(GridResponsibility).order_by(GridResponsibility.id)).all()
    return _json(
        [{"id": r.id, "layer": names[r.layer_id], "grid_code": r.grid_code, "unit_id": r.unit_id} for r in rows]
    )


@router.put("/grid-responsibilities")
def put_responsibility(
    body: ResponsibilityIn,
    request: Request,
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    """Set the unit answering for a grid (one per layer and grid code; replaces any previous one)."""
    layer_id = _layer_id(session, body.layer)
    unit_id = _unit_id(session, body.unit_id, body.unit_code, required=True)
    row = session.scalar(
        select(GridResponsibility).where(
            GridResponsibility.layer_id == layer_id, GridResponsibility.grid_code == body.grid_code
        )
    )
    if row is None:
        row = GridResponsibility(layer_id=layer_id, grid_code=body.grid_code)
        session.add(row)
    row.unit_id = unit_id
    _commit(session, request)
    return _json({"id": row.id, "layer": body.layer, "grid_code": body.grid_code, "unit_id": unit_id})


add_delete_route("/grid-responsibilities", GridResponsibility, "grid responsibility")


# ---- routing rules and time limits ----------------------------------------------------------------------------
def _rule(r: RoutingRule, unit_code: str | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "category": f"{r.kind}:{r.code}",
        "name": r.name,
        "owner_unit": unit_code,
        "territorial_level": r.territorial_level,
        "note": r.note,
    }


def _limit(r: TimeLimit) -> dict[str, Any]:
    return {
        "id": r.id,
        "category": f"{r.kind}:{r.code}",
        "urgency": r.urgency,
        "value": r.value,
        "unit": r.unit,
        "working": r.working,
        "exempt_from_cap": r.exempt_from_cap,
        "exempt_reason": r.exempt_reason,
    }


def _parse(fn, payload: dict[str, Any]) -> Any:
    try:
        return fn(payload, "body", 1)
    except CatalogueError as exc:
        message = str(exc)
        field = message.split("field ", 1)[1].split("'")[1] if "field '" in message else "body"
        raise InvalidInput(message, [{"field": field, "reason": message.split(": ", 1)[-1]}]) from None


def _owner_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    uid = session.scalar(select(Unit.id).where(Unit.code == code))
    if uid is None:
        raise invalid("owner_unit", f"no unit with code {code!r}")
    return uid


@router.get("/routing-rules")
def list_rules(session: Session = Depends(get_session)) -> Response:
    rows = session.execute(
        select(RoutingRule, Unit.code)
        .outerjoin(Unit, Unit.id == RoutingRule.owner_unit_id)
        .order_by(RoutingRule.kind, RoutingRule.code)
    ).all()
    return _json([_rule(r, code) for r, code in rows])


@router.post("/routing-rules", status_code=201)
def upsert_rule(
    payload: dict[str, Any],
    request: Request,
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    """Create or replace the rule of a category: ``{"category", "name", "owner_unit", "territorial_level"}``."""
    rule = _parse(parse_rule, payload)
    owner = _owner_id(session, rule.owner_unit_code)
    row = session.scalar(select(RoutingRule).where(RoutingRule.kind == rule.kind, RoutingRule.code == rule.code))
    if row is None:
        row = RoutingRule(kind=rule.kind, code=rule.code)
        session.add(row)
    row.name, row.owner_unit_id, row.territorial_level, row.note = rule.name, owner, rule.territorial_level, rule.note
    _commit(session, request)
    return Response(_json(_rule(row, rule.owner_unit_code)).body, status_code=201, media_type="application/json")


add_delete_route("/routing-rules", RoutingRule, "routing rule")


@router.post("/routing-rules/import")
async def import_rules(
    request: Request,
    format: str = Query(..., pattern="^(csv|yaml)$", description="csv | yaml"),
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    """Import a catalogue file sent as the request body (same formats as ``geogrid rules import``)."""
    try:
        data = read_catalogue_text((await request.body()).decode("utf-8"), format, "body")
        counts = import_catalogue(session, data, "body")
    except UnicodeDecodeError:
        raise invalid("body", "not UTF-8 text") from None
    except CatalogueError as exc:
        session.rollback()
        raise InvalidInput(str(exc), [{"field": "body", "reason": str(exc)}]) from None
    _commit(session, request)
    return _json(counts)


@router.get("/time-limits")
def list_limits(session: Session = Depends(get_session)) -> Response:
    rows = session.scalars(select(TimeLimit).order_by(TimeLimit.kind, TimeLimit.code, TimeLimit.urgency)).all()
    return _json([_limit(r) for r in rows])


@router.post("/time-limits", status_code=201)
def upsert_limit(
    payload: dict[str, Any],
    request: Request,
    session: Session = Depends(get_session),
    _: Caller = WRITE,
) -> Response:
    """Create or replace a limit: ``{"category", "urgency", "value", "unit", "working"}``.

    Over 5 working days needs ``"exempt_from_cap": true`` and an ``exempt_reason`` (seeds/001), else 422.
    """
    lim = _parse(parse_limit, payload)
    row = session.scalar(
        select(TimeLimit).where(
            TimeLimit.kind == lim.kind, TimeLimit.code == lim.code, TimeLimit.urgency == lim.urgency
        )
    )
    if row is None:
        row = TimeLimit(kind=lim.kind, code=lim.code, urgency=lim.urgency)
        session.add(row)
    row.value, row.unit, row.working = lim.value, lim.unit, lim.working
    row.exempt_from_cap, row.exempt_reason = lim.exempt_from_cap, lim.exempt_reason
    _commit(session, request)
    return Response(_json(_limit(row)).body, status_code=201, media_type="application/json")


add_delete_route("/time-limits", TimeLimit, "time limit")
