"""What the workbench refuses, and why: each error names the field or the rule, so the API can answer 4xx."""

from __future__ import annotations


class PlannerError(ValueError):
    """Base of the workbench's refusals; ``details`` is a list of ``{"field", "reason"}``."""

    def __init__(self, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadEdit(PlannerError):
    """The request itself is wrong (unknown op, a code that is not in the plan, a line that cuts nothing): 422."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", [{"field": field, "reason": reason}])


class PlanMissing(PlannerError):
    """No plan by that name: 404."""

    def __init__(self, name: str, known: list[str] | tuple = ()) -> None:
        listed = f"; plans in the store: {', '.join(known) or '(none)'}"
        super().__init__(f"unknown plan {name!r}{listed}", [{"field": "name", "reason": "not found"}])


class EditRefused(PlannerError):
    """The edit would break a hard rule or the plan's state forbids it: 409 with the reasons."""

    def __init__(self, message: str, breaks: list[dict] | None = None, field: str = "op") -> None:
        breaks = breaks or []
        details = [{"field": b.get("field", field), "reason": b["reason"]} for b in breaks] or [
            {"field": field, "reason": message}
        ]
        super().__init__(message, details)
        self.breaks = breaks
