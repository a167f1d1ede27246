#!/usr/bin/env bash
# Measures a campaign over a large audience with a release build: N members (default 100,000)
# imported into a fresh database, then a `once` campaign granting one coupon to everyone,
# activated with `quan campaigns activate --wait` (the worker in that process). The baseline,
# in the same run and on the same members, is the same campaign with a 100% holdout: every
# entry is written and recorded, nothing is granted, so the difference is the grants' cost.
# On SQLite, and on PostgreSQL when QUAN_BENCH_PG=1 (through scripts/with-postgres.sh).
# Usage: [QUAN=binary] scripts/bench-campaign.sh [members]   (QUAN: measure that build instead
# of the release build of this tree)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
if [[ "${QUAN_BENCH_PG:-0}" == 1 && -z "${QUAN_TEST_DATABASE_URL:-}" ]]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
if [[ -z "${QUAN:-}" ]]; then
    cargo build --release -q -p quan
    QUAN=${CARGO_TARGET_DIR:-target}/release/quan
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export RUST_LOG=warn
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
python3 - "$N" > "$WORK/members.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("id,joined_at,tier,region,channel,guide_id,points,tags")
for i in range(n):
    print(f"m{i:07d},2026-01-01T00:00:00Z,,,,,0,")
PY
cat > "$WORK/playbook.json" <<'JSON'
{"templates": {"gift": {"name": "bench", "scope": {"kind": "platform"},
   "benefit": {"kind": "reduction", "threshold": 0, "off": 500},
   "validity": {"kind": "relative", "days": 30}, "distribution": ["campaign_only"],
   "funding": {"platform_bp": 10000, "merchant_bp": 0}}},
 "campaigns": [
   {"name": "baseline: all held out", "trigger": {"kind": "once"}, "holdout_bp": 10000,
    "actions": [{"kind": "grant", "template_id": "gift"}]},
   {"name": "grant everyone", "trigger": {"kind": "once"},
    "actions": [{"kind": "grant", "template_id": "gift"}]}]}
JSON

run() {
    local db=$1
    "$QUAN" import members --database-url "$db" "$WORK/members.csv" >/dev/null
    "$QUAN" campaigns apply --database-url "$db" "$WORK/playbook.json" > "$WORK/applied"
    for id in $(grep '^cmp_' "$WORK/applied" | cut -f1); do
        local start end
        start=$(date +%s.%N)
        "$QUAN" campaigns activate --database-url "$db" "$id" --wait 2>/dev/null | tail -1 > "$WORK/done"
        end=$(date +%s.%N)
        python3 - "$start" "$end" "$N" "$(cat "$WORK/done")" <<'PY'
import sys
start, end, n, line = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
name = line.split("\t")[2]
stats = line.split("\t")[3]
s = end - start
print(f"   {name:24s} {s:7.2f} s  {n / s:9.0f} entries/s   {stats}")
PY
    done
}

echo "== SQLite, $N members"
run "sqlite://$WORK/quan.db"
if [[ -n "${QUAN_TEST_DATABASE_URL:-}" ]]; then
    echo "== PostgreSQL (a throwaway local server), $N members"
    run "$QUAN_TEST_DATABASE_URL"
fi
