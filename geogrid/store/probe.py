"""Small questions the setup script asks about the PostgreSQL server before the schema exists.

``python -m geogrid.store.probe reachable|postgis|major|address``: exit status 0/1 answers yes/no; ``major`` and
``address`` print. It connects to the maintenance database ``postgres`` so it works before ``db init``.
"""

from __future__ import annotations

import sys

import psycopg2
from sqlalchemy.engine import make_url

from geogrid.settings import database_url
from geogrid.store.db import sa_url


def _connect():
    url = make_url(sa_url(database_url()))
    return psycopg2.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
        connect_timeout=5,
    )


def main(question: str) -> int:
    url = make_url(sa_url(database_url()))
    if question == "address":
        print(f"{url.host or '127.0.0.1'}:{url.port or 5432} as {url.username or 'postgres'}")
        return 0
    try:
        conn = _connect()
    except psycopg2.OperationalError:
        return 1
    with conn, conn.cursor() as cur:
        if question == "reachable":
            return 0
        if question == "major":
            cur.execute("SHOW server_version_num")
            print(int(cur.fetchone()[0]) // 10000)
            return 0
        if question == "postgis":
            cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            return 0 if cur.fetchone() else 1
    print(f"unknown question {question!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "reachable"))
