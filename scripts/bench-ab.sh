#!/usr/bin/env bash
# Compares two builds of quan in one run, each measurement alternating between them so both
# meet the machine in the same state: claims/s over HTTP on SQLite and, when
# QUAN_BENCH_PG_URL is set, on PostgreSQL (scripts/bench-claim-ab.sh),
# quotes/s over HTTP on SQLite (scripts/bench-quote.sh) and a 50,000-member `once` campaign on
# SQLite and PostgreSQL (scripts/bench-campaign.sh, a fresh database per run).
# Usage: scripts/bench-ab.sh OLD_QUAN NEW_QUAN [pairs]   (default 2 pairs)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$(realpath "$1")
NEW=$(realpath "$2")
PAIRS=${3:-2}
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== claims: 200,000 claims of one template, 256 connections (old, new alternating)"
QUAN_BENCH_PG_URL='' scripts/bench-claim-ab.sh "$OLD" "$NEW" "$PAIRS" 256 200000
if [[ -n ${QUAN_BENCH_PG_URL:-} ]]; then
    echo "== claims on PostgreSQL: 200,000 claims of one template, 256 connections"
    scripts/bench-claim-ab.sh "$OLD" "$NEW" "$PAIRS" 256 200000
fi
echo "== quotes: wrk -t2 -c64 -d10s, a 10-line cart over 3 stores, 10 coupons a member"
for _ in $(seq 1 "$PAIRS"); do
    for which in old new; do
        bin=$([[ $which == old ]] && echo "$OLD" || echo "$NEW")
        echo "$which: $(QUAN=$bin scripts/bench-quote.sh 10 64 | grep -E 'Requests/sec' | xargs)"
    done
done
echo "== campaign: 50,000 members, one grant each (baseline: the same campaign all held out)"
for _ in $(seq 1 "$PAIRS"); do
    for which in old new; do
        bin=$([[ $which == old ]] && echo "$OLD" || echo "$NEW")
        echo "$which:"
        QUAN=$bin QUAN_BENCH_PG=1 scripts/bench-campaign.sh 50000 | grep -v "^== machine"
    done
done
