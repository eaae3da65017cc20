#!/usr/bin/env bash
# Install what the web map and its browser test need:
#   - JavaScript dependencies of web/ from npm (maplibre-gl; playwright-core for the test driver) into web/node_modules
#   - Debian's chromium for the headless end-to-end test (only when missing and we are root)
# Playwright's own browser download is never used: the test points playwright-core at the system chromium.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/web"

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
    else
        echo "setup_web: npm is missing; install Node.js 18+ (Debian: sudo apt-get install nodejs npm)" >&2
        exit 1
    fi
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi

# A CJK font so grid and community names render in the browser (and its screenshots) rather than as boxes.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then missing+=(fonts-wqy-microhei); fi
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "setup_web: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
    fi
fi
echo "setup_web: web/node_modules ready; chromium at $(command -v chromium || echo 'not installed')"
