"""Storing a routed report in one statement: idempotency lookup, duplicate search, the case row and its history row.

Intake used ten statements per report; each is a round trip to PostgreSQL, and at city scale the round trips,
not the work, were the cost. Folded into CTEs, a new report is one statement; run in autocommit (the API does
when the report has no photos) it is its own transaction, so the whole write is one round trip and still atomic.

Exactly-once is unchanged: the key is claimed in ``case_idempotency`` (the case table is partitioned by month and
cannot hold the unique constraint) with ``ON CONFLICT ON CONSTRAINT case_report_idempotency DO NOTHING``, and the
case row is written only when the claim was made. The ``prior`` CTE sees a key committed before the statement began
(a replay); a concurrent first attempt still in flight makes the claim wait for it and then do nothing, and the
caller looks the winner up (``StoredReport.kind`` is ``None``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from geogrid import STORE_SRID
from geogrid.cases.models import TERMINAL, Case

_COLUMNS = (
    "status",
    "category",
    "urgency",
    "channel",
    "description",
    "address",
    "media_url",
    "lon",
    "lat",
    "crs_in",
    "reporter_account_id",
    "reporter_name",
    "reporter_contact",
    "idempotency_key",
    "request_hash",
    "grid_code",
    "community_id",
    "street_id",
    "district_id",
    "unit_id",
    "time_limit_value",
    "time_limit_unit",
    "time_limit_working",
    "centre_level",
    "created_at",
    "updated_at",
)
_POINT = f"ST_SetSRID(ST_MakePoint(:lon, :lat), {STORE_SRID})"
_TERMINAL = ", ".join(f"'{s}'" for s in TERMINAL)

_SQL = f"""
WITH prior AS (
    SELECT case_id AS id FROM case_idempotency
    WHERE CAST(:idempotency_key AS text) IS NOT NULL AND idempotency_key = :idempotency_key AND {{account}}
), nid AS (
    SELECT nextval('case_report_id_seq') AS id
), claim AS (
    INSERT INTO case_idempotency (reporter_account_id, idempotency_key, case_id)
    SELECT :reporter_account_id, :idempotency_key, nid.id FROM nid
    WHERE CAST(:idempotency_key AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM prior)
    ON CONFLICT ON CONSTRAINT case_report_idempotency DO NOTHING
    RETURNING case_id
), dup AS (
    SELECT id FROM case_report
    WHERE category = :category AND status NOT IN ({_TERMINAL})
      AND ST_DWithin(geography(geom), geography({_POINT}), :radius_m)
    ORDER BY ST_Distance(geography(geom), geography({_POINT})), id
    LIMIT 1
), ins AS (
    INSERT INTO case_report (id, {", ".join(_COLUMNS)}, geom, route, duplicate_of_id)
    SELECT nid.id, {", ".join(":" + c for c in _COLUMNS)}, {_POINT}, CAST(:route AS jsonb), (SELECT id FROM dup)
    FROM nid
    WHERE NOT EXISTS (SELECT 1 FROM prior)
      AND (CAST(:idempotency_key AS text) IS NULL OR EXISTS (SELECT 1 FROM claim))
    RETURNING *
), ev AS (
    INSERT INTO case_event (case_id, action, from_status, to_status, actor_account_id, actor_role, at, data)
    SELECT id, 'report', NULL, 'reported', reporter_account_id, :actor_role, created_at,
           jsonb_build_object('channel', channel, 'duplicate_of', duplicate_of_id, 'photos', :photos)
    FROM ins
    RETURNING id
), res AS (
    SELECT 'new' AS kind, ins.* FROM ins
    UNION ALL
    SELECT 'prior' AS kind, c.* FROM case_report c JOIN prior p ON p.id = c.id
)
SELECT res.*, (SELECT id FROM ev) AS event_id, d.status AS dup_status, d.category AS dup_category
FROM res LEFT JOIN case_report d ON d.id = res.duplicate_of_id
"""
# two spellings of "this reporter" so the unique (reporter_account_id, idempotency_key) index serves the lookup
# (``IS NOT DISTINCT FROM`` would scan every case)
STORE_REPORT = text(_SQL.format(account="reporter_account_id = :reporter_account_id"))
STORE_ANONYMOUS_REPORT = text(_SQL.format(account="reporter_account_id IS NULL"))


@dataclass
class StoredReport:
    """What the statement did: ``kind`` 'new' (inserted), 'prior' (key seen before) or None (lost a race)."""

    kind: str | None
    case: Case | None
    event_id: int | None
    duplicate: dict[str, Any] | None


def _case_from(session: Session, row: dict[str, Any]) -> Case:
    """The returned row as a persistent ``Case`` of the session without a SELECT (workflow actions may follow)."""
    existing = session.identity_map.get(identity_key(Case, row["id"]))
    if existing is not None:
        return existing
    mapper = Case.__mapper__
    case = Case(**{attr.key: row[attr.columns[0].name] for attr in mapper.column_attrs if attr.columns[0].name in row})
    make_transient_to_detached(case)
    session.add(case)
    return case


def store_report(
    session: Session,
    values: dict[str, Any],
    actor_role: str,
    photos: int,
    radius_m: float,
    autocommit: bool = False,
) -> StoredReport:
    """Run the statement on the session's connection; with ``autocommit`` (the session must not have begun) it is
    its own transaction: psycopg2's autocommit flag is set and cleared locally, so neither BEGIN/COMMIT nor an
    isolation-level reset on return to the pool goes over the wire."""
    params = {c: values[c] for c in _COLUMNS}
    params |= {"route": json.dumps(values["route"], ensure_ascii=False, default=str), "radius_m": radius_m}
    params |= {"actor_role": actor_role, "photos": photos}
    stmt = STORE_ANONYMOUS_REPORT if values["reporter_account_id"] is None else STORE_REPORT
    dbapi = session.connection().connection.dbapi_connection if autocommit and not session.in_transaction() else None
    if dbapi is not None and dbapi.info.transaction_status != TRANSACTION_STATUS_IDLE:
        dbapi = None  # the pool's begin hook already opened one (SET LOCAL statement_timeout behind pgbouncer)
    if dbapi is not None:
        dbapi.autocommit = True
        try:
            row = session.execute(stmt, params).mappings().first()
        finally:
            if not dbapi.closed:  # a server gone mid-statement closed it: raise its OperationalError (503), not this
                dbapi.autocommit = False
    else:
        row = session.execute(stmt, params).mappings().first()
    if row is None:
        return StoredReport(None, None, None, None)
    row = dict(row)
    dup = None
    if row["duplicate_of_id"] is not None:
        dup = {"id": row["duplicate_of_id"], "status": row["dup_status"], "category": row["dup_category"]}
    return StoredReport(row["kind"], _case_from(session, row), row["event_id"], dup)
