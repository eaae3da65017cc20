"""The long schemathesis campaign (issue 10's acceptance): every operation, anonymous and with an admin key,
then schemathesis' stateful run (operations chained through the links it infers), counting 500s and undocumented
status codes. The CI test (``tests/edge/test_schema_fuzz.py``) is the same loop with 3 examples per operation.

Usage::

    python bench/schema_fuzz.py --examples 30 --stateful-steps 2000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import status_code_conformance  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from geogrid.settings import database_url  # noqa: E402
from geogrid.store.accounts import create_account  # noqa: E402
from geogrid.store.db import drop_database, get_engine, init_store, sa_url, session_scope  # noqa: E402
from tests.cases.conftest import build_city  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance]


def fuzz_operations(api, key: str, examples: int, statuses: Counter, failures: list[str]) -> int:
    calls = 0
    operations = [r.ok() for r in api.get_all_operations()]
    for n, operation in enumerate(operations, 1):

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
        def run(case) -> None:
            nonlocal calls
            for headers in ({}, {"X-API-Key": key}):
                response = case.call(headers=headers)
                calls += 1
                statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as exc:
                    failures.append(f"{case.operation.label} ({'keyed' if headers else 'anonymous'}): {str(exc)[:300]}")

        run()
        if n % 10 == 0:
            print(f"  {n}/{len(operations)} operations, {calls} requests, {len(failures)} failures", flush=True)
    return calls


def stateful(api, key: str, steps: int, statuses: Counter, failures: list[str]) -> int:
    """Schemathesis' state machine over inferred links, with the admin key; bounded to ``steps`` transitions."""
    machine = api.as_state_machine()
    calls = 0

    class Machine(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):  # noqa: ANN001, ANN201 - schemathesis' hook
            return {"headers": {"X-API-Key": key}}

        def validate_response(self, response, case, **kwargs):  # noqa: ANN001, ANN003, ANN201
            nonlocal calls
            calls += 1
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"stateful {case.operation.label}: {str(exc)[:300]}")

    Machine.TestCase.settings = settings(
        max_examples=max(1, steps // 10), stateful_step_count=10, deadline=None,
        suppress_health_check=list(HealthCheck), database=None,
    )  # fmt: skip
    try:
        Machine.TestCase().runTest()
    except Exception as exc:  # a failure the machine raises itself is recorded, not fatal to the report
        failures.append(f"stateful run stopped: {str(exc)[:300]}")
    return calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=30, help="examples per operation (each sent twice)")
    ap.add_argument("--stateful-steps", type=int, default=2000)
    args = ap.parse_args()
    url = make_url(sa_url(database_url())).set(database=f"geogrid_bench_fuzz_{uuid.uuid4().hex[:8]}")
    url = url.render_as_string(hide_password=False)
    init_store(url)
    os.environ.update(GEOGRID_DATABASE_URL=url, GEOGRID_EDGE_RATE_LIMITS="off",
                      GEOGRID_MEDIA_DIR=f"/tmp/geogrid-fuzz-media-{uuid.uuid4().hex[:6]}")  # fmt: skip
    statuses: Counter = Counter()
    failures: list[str] = []
    started = time.monotonic()
    try:
        build_city(url)
        with session_scope(url) as session:
            _, key = create_account(session, "fuzz-admin", "admin")
        get_engine.cache_clear()
        from api.main import create_app

        api = schemathesis.openapi.from_asgi("/openapi.json", create_app())
        print(f"operations, {args.examples} examples each, anonymous and keyed", flush=True)
        calls = fuzz_operations(api, key, args.examples, statuses, failures)
        print(f"stateful run, about {args.stateful_steps} steps", flush=True)
        calls += stateful(api, key, args.stateful_steps, statuses, failures)
    finally:
        get_engine.cache_clear()
        drop_database(url)
    print(f"\n{calls} requests in {time.monotonic() - started:.0f} s; statuses {dict(sorted(statuses.items()))}")
    print(f"500s: {statuses.get(500, 0)}; failures (500 or undocumented status): {len(failures)}")
    for line in failures[:50]:
        print("  " + line)


if __name__ == "__main__":
    main()
