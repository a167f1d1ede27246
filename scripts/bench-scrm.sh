#!/usr/bin/env bash
# Measures the SCRM on the Complete Journey data (../shared/data/completejourney) with a release
# build on a fresh SQLite database: the full import, a re-import (which must change nothing), a
# full RFM recompute, and sizing a three-rule segment (scripts/segments/three-rules.json), then
# the same RFM query in DuckDB over the Parquet files as the reference (scripts/rfm_duckdb.py).
# Usage: scripts/bench-scrm.sh [repeats]   (default 3; RFM and segment timings are repeated)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-3}
DATA=${QUAN_CJ_DATA:-../shared/data/completejourney}
AS_OF=2018-01-01T00:00:00Z
python3 -c "import duckdb" 2>/dev/null || pip install -q duckdb
cargo build --release -p quan >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DB="sqlite://$WORK/quan.db"
export RUST_LOG=warn
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
sync
# The dataset's own figures: every household, every basket, and the exact sales in cents.
EXPECT="2469 members, 155848 orders, 459603958 cents"
echo "== import (fresh database)"
/usr/bin/time -f "wall %e s, max RSS %M KiB" target/release/quan import completejourney --database-url "$DB" "$DATA" | tee "$WORK/first"
grep -q "$EXPECT" "$WORK/first" || { echo "FAIL: expected $EXPECT"; exit 1; }
echo "== re-import (changes nothing)"
/usr/bin/time -f "wall %e s" target/release/quan import completejourney --database-url "$DB" "$DATA" | tee "$WORK/again"
grep -q "$EXPECT" "$WORK/again" || { echo "FAIL: expected $EXPECT"; exit 1; }
if grep -qE "(^|[^0-9])[1-9][0-9]* (inserted|updated)" "$WORK/again"; then
    echo "FAIL: the re-import changed something"; exit 1
fi
echo "ok: $EXPECT; the re-import changed nothing"
echo "== RFM recompute as of $AS_OF (x$REPEAT)"
for _ in $(seq "$REPEAT"); do target/release/quan rfm recompute --database-url "$DB" --as-of "$AS_OF"; done
echo "== three-rule segment as of $AS_OF (x$REPEAT)"
for _ in $(seq "$REPEAT"); do
    target/release/quan segments size --database-url "$DB" --file scripts/segments/three-rules.json --as-of "$AS_OF"
done
echo "== DuckDB reference: the same RFM over the Parquet files"
python3 scripts/rfm_duckdb.py --data "$DATA" --as-of "$AS_OF" --repeat "$REPEAT"
