#!/bin/sh
# The read replica: on its first start, copy the primary with pg_basebackup -R (streaming, standby.signal written),
# then run as a hot standby. Later starts reuse the copy and resume streaming.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U postgres >/dev/null 2>&1; do sleep 1; done
  rm -rf "$PGDATA"/*
  pg_basebackup -h "$PRIMARY_HOST" -U postgres -D "$PGDATA" -R -X stream -c fast
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on
