#!/bin/sh
# First start of the primary (docker-entrypoint-initdb.d): let the replica stream WAL with the superuser's password.
set -e
echo "host replication postgres all scram-sha-256" >> "$PGDATA/pg_hba.conf"
