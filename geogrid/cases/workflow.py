"""The case workflow as data: for each state, the actions allowed, who may take them and where they lead.

受理 accept/reject → 核实 verify (a collector confirms) → 立案 file → 派遣 dispatch (the clock starts) → 处置 handle
→ 反馈 feedback → 核查 check (a collector, with a photo) → 结案 close, or 返工 rework back to the unit.
Side states: 延期 extension (requested by the unit, approved or denied by an operator), 回退 return (mis-dispatched,
back to the centre for a new dispatch and a new clock), 挂账 park (out of the clock until unparked).
``apply`` is the only code that changes a case's status, and it always writes a history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from geogrid.cases.calendar import WorkCalendar, load_calendar
from geogrid.cases.models import Case, CaseEvent
from geogrid.store.models import Unit

OP, UNIT, COLLECTOR = "operator", "unit", "collector"
ALL_CLOSE = ("normal", "overdue", "error", "special")
ABORT_CLOSE = ("error", "special")
DEFAULT_TIME_LIMIT = (1.0, "days")  # the community-level limit of DOMAIN.md when routing gave none


@dataclass(frozen=True)
class Transition:
    to: str
    roles: tuple[str, ...]
    close_types: tuple[str, ...] = ()


def _close(types: tuple[str, ...]) -> Transition:
    return Transition("closed", (OP,), types)


TRANSITIONS: dict[str, dict[str, Transition]] = {
    "reported": {"accept": Transition("accepted", (OP,)), "reject": Transition("rejected", (OP,))},
    "accepted": {
        "verify": Transition("verified", (COLLECTOR,)),
        "file": Transition("filed", (OP,)),
        "close": _close(ABORT_CLOSE),
    },
    "verified": {"file": Transition("filed", (OP,)), "close": _close(ABORT_CLOSE)},
    "filed": {
        "dispatch": Transition("dispatched", (OP,)),
        "park": Transition("parked", (OP,)),
        "close": _close(ABORT_CLOSE),
    },
    "dispatched": {
        "handle": Transition("handling", (UNIT,)),
        "return": Transition("returned", (UNIT,)),
        "extension_request": Transition("extension_requested", (UNIT,)),
        "park": Transition("parked", (OP,)),
        "close": _close(ABORT_CLOSE),
    },
    "handling": {
        "feedback": Transition("fed_back", (UNIT,)),
        "return": Transition("returned", (UNIT,)),
        "extension_request": Transition("extension_requested", (UNIT,)),
        "park": Transition("parked", (OP,)),
        "close": _close(ABORT_CLOSE),
    },
    "extension_requested": {
        "extension_approve": Transition("handling", (OP,)),
        "extension_deny": Transition("handling", (OP,)),
    },
    "fed_back": {
        "check": Transition("checked", (COLLECTOR,)),
        "rework": Transition("dispatched", (OP, COLLECTOR)),
        "close": _close(ABORT_CLOSE),
    },
    "checked": {"close": _close(ALL_CLOSE), "rework": Transition("dispatched", (OP,))},
    "returned": {
        "dispatch": Transition("dispatched", (OP,)),
        "park": Transition("parked", (OP,)),
        "close": _close(ABORT_CLOSE),
    },
    "parked": {"unpark": Transition("filed", (OP,)), "close": _close(ABORT_CLOSE)},
    "closed": {},
    "rejected": {},
}
ACTIONS = tuple(sorted({action for table in TRANSITIONS.values() for action in table}))
CLOCK_STATES = ("dispatched", "handling", "extension_requested")  # the unit holds the case: escalation applies


@dataclass(frozen=True)
class Actor:
    """Who acts: an account and its role (``system`` for the escalation job)."""

    account_id: int | None
    role: str
    unit_id: int | None = None


class WorkflowError(Exception):
    """Base: ``field``/``reason`` feed the API's error details."""

    def __init__(self, message: str, field: str = "action", reason: str = "", **extra) -> None:
        super().__init__(message)
        self.message, self.field, self.reason, self.extra = message, field, reason or message, extra


class IllegalTransition(WorkflowError):
    """The action does not exist from the case's current state (HTTP 409)."""


class RoleNotAllowed(WorkflowError):
    """The action exists here but not for this role, or the unit is not the case's unit (HTTP 403)."""


class BadParameter(WorkflowError):
    """A parameter the action needs is missing or wrong (HTTP 422)."""


def allowed(state: str, role: str | None = None) -> list[dict]:
    """The actions allowed from ``state`` (for ``role`` when given; admin may do all), with roles and close types."""
    out = []
    for action, tr in sorted(TRANSITIONS.get(state, {}).items()):
        if role is None or role == "admin" or role in tr.roles:
            item = {"action": action, "to": tr.to, "roles": list(tr.roles)}
            if tr.close_types:
                item["close_types"] = list(tr.close_types)
            out.append(item)
    return out


def _check_permission(case: Case, action: str, tr: Transition, actor: Actor) -> None:
    if actor.role == "admin":
        return
    if actor.role not in tr.roles:
        raise RoleNotAllowed(f"role {actor.role!r} may not {action} a case", "role", f"needs one of {list(tr.roles)}")
    if actor.role == UNIT and (actor.unit_id is None or actor.unit_id not in (case.unit_id, case.escalated_unit_id)):
        raise RoleNotAllowed(f"case {case.id} is not dispatched to your unit", "unit", "not the case's unit")


def _limit(value, unit, field: str) -> tuple[float, str]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadParameter(f"{field} needs a number", field, "not a number") from None
    if not number > 0 or number > 365:
        raise BadParameter(f"{field} must be > 0 and ≤ 365", field, "out of range")
    if unit not in ("hours", "days"):
        raise BadParameter(f"{field}_unit must be 'hours' or 'days'", f"{field}_unit", "not hours/days")
    return number, unit


def _start_clock(case: Case, at: datetime, calendar: WorkCalendar) -> None:
    value = case.time_limit_value if case.time_limit_value is not None else DEFAULT_TIME_LIMIT[0]
    unit = case.time_limit_unit or DEFAULT_TIME_LIMIT[1]
    case.dispatched_at = at
    case.first_dispatched_at = case.first_dispatched_at or at
    case.due_at = calendar.add(at, value, unit, case.time_limit_working)
    case.escalate_at = case.due_at
    case.escalation_level = "community"
    case.escalated_unit_id = None


def apply(
    session: Session,
    case: Case,
    action: str,
    actor: Actor,
    *,
    at: datetime | None = None,
    note: str | None = None,
    params: dict | None = None,
    calendar: WorkCalendar | None = None,
) -> CaseEvent:
    """Take ``action`` on ``case`` as ``actor`` at ``at`` (now by default), record it, and return the event.

    ``params``: ``unit_id`` for dispatch; ``close_type`` for close; ``value``/``unit`` for extension_request;
    ``photos`` (count already stored) for check. For close, normal/overdue is decided by the clock: a case closed
    after its deadline is closed as overdue whatever the caller asked.
    """
    params = params or {}
    at = at or datetime.now(UTC)
    state = case.status
    tr = TRANSITIONS.get(state, {}).get(action)
    if tr is None:
        options = allowed(state)
        names = ", ".join(o["action"] for o in options) or "none (terminal state)"
        raise IllegalTransition(
            f"cannot {action} a case in state {state!r}; allowed: {names}",
            "action",
            f"not allowed from {state}",
            state=state,
            allowed=options,
        )
    _check_permission(case, action, tr, actor)
    data: dict = {}
    calendar_needed = action in ("dispatch", "extension_approve")
    calendar = calendar or (load_calendar(session) if calendar_needed else None)

    if action == "dispatch":
        unit_id = params.get("unit_id", case.unit_id)
        if unit_id is None or session.get(Unit, int(unit_id)) is None:
            raise BadParameter(f"unit {unit_id!r} does not exist", "unit_id", "unknown unit")
        case.unit_id = int(unit_id)
        _start_clock(case, at, calendar)
        data = {"unit_id": case.unit_id, "due_at": case.due_at.isoformat()}
    elif action == "accept":
        case.accepted_at = at
    elif action == "file":
        case.filed_at = at
    elif action == "check":
        if int(params.get("photos", 0)) < 1:
            raise BadParameter("a check needs at least one photo", "photo", "missing")
    elif action == "rework":
        case.rework_count += 1
    elif action == "extension_request":
        value, unit = _limit(params.get("value"), params.get("unit", "days"), "value")
        case.pending_extension = {"value": value, "unit": unit, "requested_at": at.isoformat()}
        data = dict(case.pending_extension)
    elif action == "extension_approve":
        ext = case.pending_extension or {}
        case.due_at = calendar.add(case.due_at or at, ext["value"], ext["unit"], case.time_limit_working)
        if case.escalation_level == "community":
            case.escalate_at = case.due_at
        case.extension_count += 1
        case.pending_extension = None
        data = {"value": ext["value"], "unit": ext["unit"], "due_at": case.due_at.isoformat()}
    elif action == "extension_deny":
        case.pending_extension = None
    elif action == "park":
        case.escalate_at = None
    elif action == "close":
        requested = params.get("close_type") or "normal"
        if requested not in tr.close_types:
            raise IllegalTransition(
                f"close type {requested!r} is not allowed from state {state!r}; allowed: {', '.join(tr.close_types)}",
                "close_type",
                f"one of {list(tr.close_types)}",
                state=state,
                allowed=allowed(state),
            )
        late = case.due_at is not None and at > case.due_at
        close_type = ("overdue" if late else "normal") if requested in ("normal", "overdue") else requested
        case.close_type, case.closed_at, case.escalate_at = close_type, at, None
        case.overdue = case.overdue or late
        data = {"close_type": close_type, "requested": requested, "on_time": not late}

    case.status = tr.to
    case.updated_at = at
    event = CaseEvent(
        case_id=case.id,
        action=action,
        from_status=state,
        to_status=tr.to,
        actor_account_id=actor.account_id,
        actor_role=actor.role,
        at=at,
        note=note,
        data=data or None,
    )
    session.add(event)
    session.flush()
    return event
