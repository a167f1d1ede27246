#!/usr/bin/env bash
# The console's TypeScript types come from the API's own OpenAPI document: openapi-typescript
# (pinned in web/package-lock.json) turns `quan openapi` into web/src/shared/api-types.ts, which
# is checked in. This checks that the file is what the binary's document generates now, or with
# --write regenerates it (`npm run api-types` in web/).
#
#   scripts/check-api-types.sh [--write] [path/to/quan]
set -euo pipefail
cd "$(dirname "$0")/.."
WRITE=false
if [[ ${1:-} == --write ]]; then WRITE=true; shift; fi
BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/quan}")
TYPES=web/src/shared/api-types.ts
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$BIN" openapi > "$WORK/openapi.json"
(cd web && npx --no-install openapi-typescript "$WORK/openapi.json" --output "$WORK/api-types.ts" --alphabetize >/dev/null 2>"$WORK/log") \
    || { cat "$WORK/log"; echo "openapi-typescript failed"; exit 1; }
{
    echo "// Generated from quan's /openapi.json by openapi-typescript: do not edit."
    echo "// Regenerate with \`npm run api-types\` (scripts/check-api-types.sh --write)."
    cat "$WORK/api-types.ts"
} > "$WORK/api-types.with-header.ts"

if $WRITE; then
    cp "$WORK/api-types.with-header.ts" "$TYPES"
    echo "wrote $TYPES"
elif ! diff -u "$TYPES" "$WORK/api-types.with-header.ts" > "$WORK/diff"; then
    head -n 60 "$WORK/diff"
    echo "$TYPES is not what the API's document generates: run \`npm run api-types\` in web/"
    exit 1
else
    echo "api types: $TYPES is current"
fi
