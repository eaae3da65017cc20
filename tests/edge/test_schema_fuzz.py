"""A bounded schemathesis run over every operation, anonymous and with an admin key: no 500, no undocumented status.

Bounded for CI (a few examples per operation, no shrinking: about a minute); ``bench/schema_fuzz.py`` runs the
long stateful campaign (>= 5,000 requests). The store is one per module (a copy of the migrated template with the
case tests' city), so mutations by the fuzzer stay inside it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from api import keys as key_cache
from geogrid.store.accounts import create_account
from geogrid.store.db import drop_database, get_engine, session_scope
from tests.cases.conftest import build_city
from tests.conftest import _copy_template, _url_for

EXAMPLES = int(os.environ.get("GEOGRID_FUZZ_EXAMPLES", "3"))
KEYS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(template_url: str, tmp_path_factory) -> Iterator[schemathesis.BaseSchema]:
    name = f"geogrid_fuzz_{uuid.uuid4().hex[:10]}"
    _copy_template(template_url, name)
    url = _url_for(name)
    saved = {k: os.environ.get(k) for k in ("GEOGRID_DATABASE_URL", "GEOGRID_MEDIA_DIR", "GEOGRID_EDGE_RATE_LIMITS")}
    os.environ.update(
        GEOGRID_DATABASE_URL=url,
        GEOGRID_MEDIA_DIR=str(tmp_path_factory.mktemp("media")),
        GEOGRID_EDGE_RATE_LIMITS="off",  # the fuzzer is one address; rate limits have their own tests
    )
    get_engine.cache_clear()
    build_city(url)
    with session_scope(url) as session:
        _, KEYS["admin"] = create_account(session, "fuzz-admin", "admin")
    from api.main import create_app

    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        key_cache.CACHE.clear()
        drop_database(url)


def _fuzz(operation, failures: list[str]) -> int:
    calls = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case) -> None:
        nonlocal calls
        for headers in ({}, {"X-API-Key": KEYS["admin"]}):
            response = case.call(headers=headers)
            calls += 1
            try:
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
            except Exception as exc:  # collected: one report for every operation that failed
                failures.append(f"{operation.label} {headers and 'keyed' or 'anonymous'}: {str(exc)[:400]}")
                return

    run()
    return calls


def test_every_operation_with_and_without_a_key(api_schema) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    calls = sum(_fuzz(op, failures) for op in operations)
    print(f"\nschemathesis: {len(operations)} operations, {calls} requests, {len(failures)} failures")
    assert len(operations) > 50 and calls >= 2 * len(operations)
    assert not failures, "\n".join(failures)
