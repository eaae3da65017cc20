"""The caller's centre (district or street) for case reads and actions: ``geogrid.supervision.scope`` for the API.

Only operators are scoped by area; admins see everything. The scope is one more condition on the case query, next
to whatever role filter applies (issue 10: units see their own cases, collectors theirs and their grid's), so the
two compose by AND without knowing about each other.
"""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy.orm import Session

from api.auth import Caller, current_caller
from api.db import get_session
from api.errors import Forbidden, NotFound
from geogrid.cases.models import Case
from geogrid.supervision.scope import AreaScope, may_act, scope_for, sees


def scope_of(session: Session, caller: Caller) -> AreaScope | None:
    return scope_for(session, caller.admin_area_id) if caller.role == "operator" else None


def caller_scope(caller: Caller = Depends(current_caller), session: Session = Depends(get_session)) -> AreaScope | None:
    """FastAPI dependency: the caller's area scope (None: unrestricted)."""
    return scope_of(session, caller)


def ensure_visible(scope: AreaScope | None, case: Case) -> None:
    if not sees(scope, case):
        detail = [{"field": "case_id", "reason": "not in your centre's area"}]
        raise NotFound(f"case {case.id} not found in your area", detail)


def ensure_actionable(scope: AreaScope | None, case: Case) -> None:
    ensure_visible(scope, case)
    if not may_act(scope, case):
        detail = [{"field": "centre_level", "reason": f"the case is handled by the {case.centre_level} centre"}]
        raise Forbidden(
            f"case {case.id} was reported up to the {case.centre_level} centre; you can only watch it", detail
        )
