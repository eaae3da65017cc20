#!/usr/bin/env bash
# Set everything up, then run the linters and the whole test suite against a real PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
