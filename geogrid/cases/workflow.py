"""The case workflow as data: for each state, the actions allowed, who may take them and where they lead.

受理 accept/reject → 核实 verify (a collector confirms) → 立案 file → 派遣 dispatch (the clock starts) → 处置 handle
→ 反馈 feedback → 核查 check (a collector, with a photo) → 结案 close, or 返工 rework back to the unit.
Side states: 延期 extension (requested by the unit, approved or denied by an operator), 回退 return (mis-dispatched,
back to the centre for a new dispatch and a new clock), 挂账 park (out of the clock until unparked).
Supervision adds: 上报 report_up (a centre hands the case to the level above, with a reason), 协办反馈 co_feedback
(a co-handling unit's own feedback on a joint case; the status does not move) and 当场处置 close_on_spot (a collector
who found the problem has already solved it: reported and closed in one step, with before/after photos).
``apply`` is the only code that changes a case's status, and it always writes a history row; what else an action
does is in ``EFFECTS``, one short function per action, and every event then passes through
``geogrid.supervision.hooks.after_event`` (its notification and filing, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


REPORT_UP = Transition("filed", (OP,))  # to the upper centre, waiting for its dispatch

TRANSITIONS: dict[str, dict[str, Transition]] = {
    "reported": {
        "accept": Transition("accepted", (OP,)),
        "reject": Transition("rejected", (OP,)),
        "close_on_spot": Transition("closed", (COLLECTOR,)),
    },
    "accepted": {
        "verify": Transition("verified", (COLLECTOR,)),
        "file": Transition("filed", (OP,)),
        "report_up": REPORT_UP,
        "close": _close(ABORT_CLOSE),
    },
    "verified": {"file": Transition("filed", (OP,)), "report_up": REPORT_UP, "close": _close(ABORT_CLOSE)},
    "filed": {
        "dispatch": Transition("dispatched", (OP,)),
        "park": Transition("parked", (OP,)),
        "report_up": REPORT_UP,
        "close": _close(ABORT_CLOSE),
    },
    "dispatched": {
        "handle": Transition("handling", (UNIT,)),
        "co_feedback": Transition("dispatched", (UNIT,)),
        "return": Transition("returned", (UNIT,)),
        "extension_request": Transition("extension_requested", (UNIT,)),
        "park": Transition("parked", (OP,)),
        "close": _close(ABORT_CLOSE),
    },
    "handling": {
        "feedback": Transition("fed_back", (UNIT,)),
        "co_feedback": Transition("handling", (UNIT,)),
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
        "report_up": REPORT_UP,
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


class NotReady(WorkflowError):
    """The action exists here but something it waits for is missing, e.g. a co-handler's feedback (HTTP 409)."""


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


def _check_permission(session: Session, case: Case, action: str, tr: Transition, actor: Actor) -> None:
    if actor.role == "admin":
        return
    if actor.role not in tr.roles:
        raise RoleNotAllowed(f"role {actor.role!r} may not {action} a case", "role", f"needs one of {list(tr.roles)}")
    if actor.role != UNIT:
        return
    if action == "co_feedback":
        from geogrid.supervision.joint import co_unit_ids

        if actor.unit_id not in co_unit_ids(session, case.id):
            raise RoleNotAllowed(f"your unit is not a co-handling unit of case {case.id}", "unit", "not a co-handler")
    elif actor.unit_id is None or actor.unit_id not in (case.unit_id, case.escalated_unit_id):
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


@dataclass
class Step:
    """One action being taken: what an effect function reads and may change."""

    session: Session
    case: Case
    action: str
    actor: Actor
    at: datetime
    params: dict
    note: str | None
    tr: Transition
    state: str
    calendar: WorkCalendar | None = None
    data: dict = field(default_factory=dict)

    def cal(self) -> WorkCalendar:
        self.calendar = self.calendar or load_calendar(self.session)
        return self.calendar


def _start_clock(step: Step) -> None:
    case, at = step.case, step.at
    value = case.time_limit_value if case.time_limit_value is not None else DEFAULT_TIME_LIMIT[0]
    unit = case.time_limit_unit or DEFAULT_TIME_LIMIT[1]
    case.dispatched_at = at
    case.first_dispatched_at = case.first_dispatched_at or at
    case.due_at = _deadline(step, lambda cal: cal.add(at, value, unit, case.time_limit_working))
    case.escalate_at = case.due_at
    case.escalation_level = "community"
    case.escalated_unit_id = None
    _set_warning(step)


def _deadline(step: Step, compute: Callable[[WorkCalendar], datetime]) -> datetime:
    from geogrid.cases.calendar import CalendarMissing

    try:
        return compute(step.cal())
    except CalendarMissing as exc:
        raise CalendarNotReady(str(exc), "calendar", exc.reason) from None


def _set_warning(step: Step) -> None:
    from geogrid.notify.settings import NotifySettings
    from geogrid.supervision.deadlines import warn_point

    share = NotifySettings.from_env().warn_share
    step.case.warn_at = _deadline(step, lambda cal: warn_point(step.case, cal, share))


def _on_dispatch(step: Step) -> None:
    from geogrid.supervision.joint import assign_co_units

    case = step.case
    unit_id = step.params.get("unit_id", case.unit_id)
    if unit_id is None or step.session.get(Unit, int(unit_id)) is None:
        raise BadParameter(f"unit {unit_id!r} does not exist", "unit_id", "unknown unit")
    case.unit_id = int(unit_id)
    _start_clock(step)
    co = assign_co_units(step.session, case, step.params.get("co_unit_ids"), step.at)
    step.data = {"unit_id": case.unit_id, "co_unit_ids": co, "due_at": case.due_at.isoformat()}


def _on_check(step: Step) -> None:
    if int(step.params.get("photos", 0)) < 1:
        raise BadParameter("a check needs at least one photo", "photo", "missing")


def _on_extension_request(step: Step) -> None:
    from geogrid.supervision.limits import check_extension

    value, unit = _limit(step.params.get("value"), step.params.get("unit", "days"), "value")
    case = step.case
    new_due = _deadline(step, lambda cal: cal.add(case.due_at or step.at, value, unit, case.time_limit_working))
    problem = check_extension(case, step.cal(), new_due)
    if problem:
        raise BadParameter(problem, "value", "beyond the 5-working-day cap")
    case.pending_extension = {"value": value, "unit": unit, "requested_at": step.at.isoformat()}
    step.data = dict(case.pending_extension)


def _on_extension_approve(step: Step) -> None:
    case = step.case
    ext = case.pending_extension or {}
    case.due_at = _deadline(step, lambda cal: cal.add(case.due_at or step.at, ext["value"], ext["unit"],
                                                      case.time_limit_working))  # fmt: skip
    if case.escalation_level == "community":
        case.escalate_at = case.due_at
    case.extension_count += 1
    case.pending_extension = None
    _set_warning(step)
    step.data = {"value": ext["value"], "unit": ext["unit"], "due_at": case.due_at.isoformat()}


def _on_close(step: Step) -> None:
    case, at, tr = step.case, step.at, step.tr
    requested = step.params.get("close_type") or "normal"
    if requested not in tr.close_types:
        raise IllegalTransition(
            f"close type {requested!r} is not allowed from state {step.state!r}; allowed: {', '.join(tr.close_types)}",
            "close_type",
            f"one of {list(tr.close_types)}",
            state=step.state,
            allowed=allowed(step.state),
        )
    late = case.due_at is not None and at > case.due_at
    close_type = ("overdue" if late else "normal") if requested in ("normal", "overdue") else requested
    case.close_type, case.closed_at, case.escalate_at, case.warn_at = close_type, at, None, None
    case.overdue = case.overdue or late
    step.data = {"close_type": close_type, "requested": requested, "on_time": not late}


def _on_close_on_spot(step: Step) -> None:
    before, after = int(step.params.get("photos_before", 0)), int(step.params.get("photos_after", 0))
    if before < 1 or after < 1:
        missing = "photos_before" if before < 1 else "photos_after"
        raise BadParameter("on-the-spot handling needs photos before and after", missing, "missing")
    case = step.case
    case.on_spot, case.close_type, case.closed_at = True, "normal", step.at
    case.accepted_at = case.filed_at = step.at
    step.data = {"close_type": "normal", "on_spot": True, "photos_before": before, "photos_after": after}


def _on_report_up(step: Step) -> None:
    from geogrid.cases.models import CENTRE_LEVELS

    if not (step.note or "").strip():
        raise BadParameter("reporting a case up a level needs a reason (note)", "note", "missing")
    case = step.case
    index = CENTRE_LEVELS.index(case.centre_level)
    if index + 1 >= len(CENTRE_LEVELS):
        raise BadParameter(f"a {case.centre_level}-level case has no level above", "action", "top level")
    step.data = {"from_level": case.centre_level, "to_level": CENTRE_LEVELS[index + 1], "reason": step.note.strip()}
    case.centre_level = CENTRE_LEVELS[index + 1]
    case.escalate_at = case.warn_at = None


def _on_feedback(step: Step) -> None:
    from geogrid.supervision.joint import missing_feedback

    missing = missing_feedback(step.session, step.case.id)
    if missing:
        raise NotReady(
            f"co-handling units {missing} have not given their feedback yet", "co_feedback", "waiting for co-handlers"
        )


def _on_co_feedback(step: Step) -> None:
    from geogrid.supervision.joint import record_co_feedback

    if not (step.note or "").strip():
        raise BadParameter("a co-handling unit's feedback needs a note", "note", "missing")
    record_co_feedback(step.session, step.case.id, step.actor, step.note.strip(), step.at)
    step.data = {"unit_id": step.actor.unit_id}


def _set(**values) -> Callable[[Step], None]:
    def effect(step: Step) -> None:
        for name, value in values.items():
            setattr(step.case, name, step.at if value == "at" else value)

    return effect


def _on_rework(step: Step) -> None:
    step.case.rework_count += 1


EFFECTS: dict[str, Callable[[Step], None]] = {
    "dispatch": _on_dispatch,
    "accept": _set(accepted_at="at"),
    "file": _set(filed_at="at"),
    "check": _on_check,
    "rework": _on_rework,
    "extension_request": _on_extension_request,
    "extension_approve": _on_extension_approve,
    "extension_deny": _set(pending_extension=None),
    "park": _set(escalate_at=None, warn_at=None),
    "close": _on_close,
    "close_on_spot": _on_close_on_spot,
    "report_up": _on_report_up,
    "feedback": _on_feedback,
    "co_feedback": _on_co_feedback,
}


class CalendarNotReady(WorkflowError):
    """The deadline falls in a year with no working-calendar data (HTTP 409 naming the year)."""


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

    ``params``: ``unit_id`` and ``co_unit_ids`` for dispatch; ``close_type`` for close; ``value``/``unit`` for
    extension_request; ``photos`` (count already stored) for check; ``photos_before``/``photos_after`` for
    close_on_spot. For close, normal/overdue is decided by the clock: a case closed after its deadline is closed as
    overdue whatever the caller asked.
    """
    from geogrid.supervision.hooks import after_event

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
    _check_permission(session, case, action, tr, actor)
    step = Step(session, case, action, actor, at or datetime.now(UTC), params or {}, note, tr, state, calendar)
    effect = EFFECTS.get(action)
    if effect is not None:
        effect(step)
    case.status = tr.to
    case.updated_at = step.at
    event = CaseEvent(
        case_id=case.id,
        action=action,
        from_status=state,
        to_status=tr.to,
        actor_account_id=actor.account_id,
        actor_role=actor.role,
        at=step.at,
        note=note,
        data=step.data or None,
    )
    session.add(event)
    session.flush()
    after_event(session, case, event)
    return event
