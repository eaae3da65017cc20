#!/usr/bin/env bash
# Set up everything geogrid needs on this machine; safe to run again.
#  1. a Python >= 3.11 virtualenv in .venv with the project and its dev tools;
#  2. a PostgreSQL server answering at GEOGRID_DATABASE_URL (on Debian as root: installed and started if none answers);
#  3. PostGIS for that server's major version (Debian package postgresql-N-postgis-3) when CREATE EXTENSION fails;
#  4. the web map's JavaScript dependencies and a headless browser (scripts/setup_web.sh), GDAL's ogrinfo, pgbouncer;
#  5. the database itself, migrated to head (geogrid db init).
set -euo pipefail
cd "$(dirname "$0")/.."

export GEOGRID_DATABASE_URL="${GEOGRID_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/geogrid}"
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }
APT_UPDATED=
apt_install() {
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
need_root_or_explain() {
  if is_debian && is_root; then return 0; fi
  echo "error: $1" >&2
  echo "run as root on Debian, or do it yourself: $2" >&2
  exit 1
}

# 1. Python
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY="$candidate"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  need_root_or_explain "no Python >= 3.11 found" "apt-get install python3 python3-venv python3-dev"
  apt_install python3 python3-venv python3-dev; PY=python3
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    need_root_or_explain "python venv is missing" "apt-get install python3-venv"
    apt_install python3-venv python3-dev
    "$PY" -m venv .venv
  fi
fi
stamp=.venv/.geogrid-installed
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

# 2. PostgreSQL answering at the configured address
pg() { .venv/bin/python -m geogrid.store.probe "$@"; }
if ! pg reachable; then
  need_root_or_explain "no PostgreSQL answers at $(pg address)" \
    "apt-get install postgresql postgresql-contrib && pg_ctlcluster <version> main start"
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    say "installing PostgreSQL"
    apt_install postgresql postgresql-contrib
  fi
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^# geogrid: local trust' "$hba"; then
    say "allowing passwordless connections from 127.0.0.1 and ::1 only (development server)"
    { echo '# geogrid: local trust'; echo 'host all all 127.0.0.1/32 trust'; echo 'host all all ::1/128 trust';
      cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || \
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 30); do pg reachable && break; sleep 1; done
  pg reachable || { echo "error: PostgreSQL still does not answer at $(pg address)" >&2; exit 1; }
fi

# 3. PostGIS for the server's major version
if ! pg postgis; then
  major="$(pg major)"
  need_root_or_explain "PostGIS is not installed for PostgreSQL $major" "apt-get install postgresql-$major-postgis-3"
  say "installing postgresql-$major-postgis-3"
  apt_install "postgresql-$major-postgis-3"
  pg postgis || { echo "error: PostGIS still unavailable after installing postgresql-$major-postgis-3" >&2; exit 1; }
fi

# 4. Web map dependencies and the browser for its end-to-end test
if [ -x scripts/setup_web.sh ]; then scripts/setup_web.sh; fi

# 4b. GDAL's command-line tools (ogrinfo, ogr2ogr): the OGC API client tests drive the API with them
if ! command -v ogrinfo >/dev/null; then
  need_root_or_explain "GDAL's ogrinfo is missing (the OGC client tests use it)" "apt-get install gdal-bin"
  say "installing gdal-bin"
  apt_install gdal-bin
fi

# 4c. pgbouncer (the transaction-mode pooler in front of the primary; its test starts a private instance)
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  need_root_or_explain "pgbouncer is missing (the pooler tests start it)" "apt-get install pgbouncer"
  say "installing pgbouncer"
  apt_install pgbouncer
fi

# 5. The database
.venv/bin/geogrid db init
