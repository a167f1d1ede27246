#!/usr/bin/env bash
# The web front end's checks: installs what they need on a fresh Debian machine (Debian's
# Chromium and a CJK font, with apt; the npm packages from the lock file), checks that the
# generated API types are current, type-checks the TypeScript, and runs the end-to-end tests in headless Chromium against a real `quan serve`
# (the binary given as $1, default target/debug/quan), on SQLite and, inside
# scripts/with-postgres.sh, on PostgreSQL.
#
#   scripts/web-test.sh [path/to/quan] [sqlite|postgres|both]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/quan}")
BACKENDS=${2:-both}

need=()
command -v chromium >/dev/null || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-microhei)
if ((${#need[@]})); then
    echo "== apt-get install ${need[*]}"
    SUDO=$([[ $(id -u) -eq 0 ]] && echo "" || echo sudo)
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

cd web
echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== api types (web/src/shared/api-types.ts is what /openapi.json generates)"
../scripts/check-api-types.sh "$BIN"
echo "== tsc"
npm run -s typecheck

if [[ $BACKENDS == sqlite || $BACKENDS == both ]]; then
    echo "== end-to-end tests in Chromium (SQLite)"
    QUAN_BIN=$BIN npx playwright test
fi
if [[ $BACKENDS == postgres || $BACKENDS == both ]]; then
    echo "== end-to-end tests in Chromium (PostgreSQL)"
    # A fresh server for the run; the tests use its `postgres` database.
    ../scripts/with-postgres.sh sh -c \
        'QUAN_E2E_DATABASE_URL=$QUAN_TEST_DATABASE_URL QUAN_E2E_PORT=18479 QUAN_BIN='"$BIN"' npx playwright test'
fi
