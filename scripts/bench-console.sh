#!/usr/bin/env bash
# Measures the console and the member pages in Debian's Chromium on the Complete Journey data:
# a release build on a fresh SQLite database, the dataset imported (2,469 members, 155,848
# orders), RFM computed, 20 templates with 2,000 claims, a segment and a playbook's campaigns;
# then web/bench/pages.mjs opens every page cold, RUNS times, and prints when each became
# interactive and what it transferred.
#   scripts/bench-console.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
DATA=${QUAN_CJ_DATA:-../shared/data/completejourney}
PORT=18470
KEY=bench-admin-key
cargo build --release --locked -p quan >/dev/null
WORK=$(mktemp -d)
DB="sqlite://$WORK/quan.db"
export RUST_LOG=warn
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== import the Complete Journey data, RFM"
target/release/quan import completejourney --database-url "$DB" "$DATA" | tail -1
target/release/quan rfm recompute --database-url "$DB" --as-of 2018-01-01T00:00:00Z | tail -1
QUAN_ADMIN_KEY=$KEY target/release/quan serve --listen 127.0.0.1:$PORT --database-url "$DB" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf localhost:$PORT/healthz >/dev/null && break; sleep 0.2; done
api() { curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
echo "== 20 templates, 2,000 claims, a segment, a playbook"
for i in $(seq 20); do
    id=$(api localhost:$PORT/v1/templates -d '{"name": "满'$((50 + i))'减'$i'", "scope": {"kind": "platform"},
        "benefit": {"kind": "reduction", "threshold": '$(((50 + i) * 100))', "off": '$((i * 100))'},
        "validity": {"kind": "relative", "days": 30}, "stock": 100000, "per_user_limit": 1,
        "distribution": ["public"], "funding": {"platform_bp": 10000, "merchant_bp": 0}}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    api -X POST localhost:$PORT/v1/templates/$id/activate >/dev/null
    for m in $(seq $((i * 100)) $((i * 100 + 99))); do
        api localhost:$PORT/v1/templates/$id/claim -d '{"user_id": "'$m'"}' >/dev/null || true
    done
done
api localhost:$PORT/v1/segments -d "{\"name\": \"milk buyers S/A\", \"rule\": $(cat scripts/segments/three-rules.json)}" >/dev/null
api -X POST "localhost:$PORT/v1/playbooks" -d @examples/campaigns/thursday-slow-day.json >/dev/null
echo "== pages in Chromium ($RUNS cold loads each)"
(cd web && node bench/pages.mjs "http://127.0.0.1:$PORT" "$KEY" "$RUNS")
