#!/usr/bin/env bash
# Checks the OpenAPI document as client generators read it: it must validate
# (openapi-spec-validator) and generate a Python client (openapi-python-client)
# without a schema or operation left out. Usage: scripts/check-openapi.sh [quan binary]
set -euo pipefail
cd "$(dirname "$0")/.."
QUAN=${1:-target/debug/quan}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 -m pip install --quiet --disable-pip-version-check \
    "openapi-spec-validator==0.9.0" "openapi-python-client==0.29.1" 2>&1 | grep -v "as the 'root' user" || true
"$QUAN" openapi > "$WORK/openapi.json"
python3 -m openapi_spec_validator "$WORK/openapi.json"
(cd "$WORK" && openapi-python-client generate --path openapi.json --meta none --output-path client) > "$WORK/generate.log" 2>&1 || {
    cat "$WORK/generate.log"; echo "openapi-python-client failed"; exit 1; }
if grep -E "Unable to|removal of|Cannot parse|ommitted|omitted" "$WORK/generate.log"; then
    cat "$WORK/generate.log"
    echo "openapi-python-client left parts of the API out"
    exit 1
fi
echo "openapi: valid; a Python client generates with $(ls "$WORK/client/models" | wc -l) models"
