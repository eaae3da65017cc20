#!/usr/bin/env bash
# Set everything up, load the demo district, generate and publish a grid plan, then serve the API and the web map.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/geogrid demo "$@"
