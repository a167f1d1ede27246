#!/usr/bin/env bash
# Measures a campaign's review as data grows, with a release build: a campaign with GRANTS
# coupons granted over 90 days and USES of them redeemed (default 6,000,000 + 4,000,000: ten
# million coupon events), written straight into a fresh database with set-based SQL (the
# coupons, their ledger entries and one sales entry per redemption, as the API writes them),
# then `quan report rebuild` computes the daily counters from those ledgers (timed), and
# `GET /v1/campaigns/{id}/review` is timed against `quan serve`. The baseline, in the same run
# on the same database: one scan of the campaign's coupons (`SELECT status, count(*) FROM
# coupons WHERE campaign_id = ... GROUP BY status`), what a review without counters must do at
# the least. Then the dashboard with MEMBERS members (default 1,000,000) imported.
# On SQLite, and on PostgreSQL when QUAN_BENCH_PG=1 (through scripts/with-postgres.sh);
# QUAN_BENCH_ONLY=postgres skips SQLite.
# Usage: [QUAN=binary] scripts/bench-review.sh [grants] [uses] [members]
set -euo pipefail
cd "$(dirname "$0")/.."
GRANTS=${1:-6000000}
USES=${2:-4000000}
MEMBERS=${3:-1000000}
if [[ "${QUAN_BENCH_PG:-0}" == 1 && -z "${QUAN_TEST_DATABASE_URL:-}" ]]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
if [[ -z "${QUAN:-}" ]]; then
    cargo build --release -q -p quan
    QUAN=${CARGO_TARGET_DIR:-target}/release/quan
fi
QUAN=$(realpath "$QUAN")
WORK=$(mktemp -d)
PORT=18591
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export RUST_LOG=warn QUAN_ADMIN_KEY=bench-admin-key
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== $GRANTS coupons granted, $USES redeemed: $((GRANTS + USES)) coupon events; dashboard at $MEMBERS members"

cat > "$WORK/playbook.json" <<'JSON'
{"templates": {"gift": {"name": "bench 10 off", "scope": {"kind": "platform"},
   "benefit": {"kind": "reduction", "threshold": 0, "off": 1000},
   "validity": {"kind": "relative", "days": 365}, "distribution": ["campaign_only"],
   "funding": {"platform_bp": 6000, "merchant_bp": 4000}}},
 "campaigns": [{"name": "ten million events", "trigger": {"kind": "once"},
   "actions": [{"kind": "grant", "template_id": "gift"}]}]}
JSON

# The synthetic rows, in PostgreSQL's spelling; :g, :u, :tpl, :cmp are filled in below. Times
# are microseconds from 2026-01-01 (1767225600 s), a grant a day over 90 days, each redemption
# an hour after its grant.
rows_sql() {
    local series=$1 # a relation of i from 0 to :g - 1
    cat <<SQL
INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, campaign_id,
                     claimed_at, claim_day, valid_from, valid_until, updated_at)
SELECT 'cb' || i, :tpl, NULL, 'm' || (i % 1000000), 'code' || i,
       CASE WHEN i < :u THEN 'redeemed' ELSE 'claimed' END, 'campaign', :cmp,
       1767225600000000 + (i % 90) * 86400000000, 20454 + (i % 90),
       1767225600000000, 1798761600000000, 1767225600000000 + (i % 90) * 86400000000
  FROM $series;
INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, given)
SELECT 'cb' || i, :tpl, 'm' || (i % 1000000), 'granted', NULL, 'claimed',
       1767225600000000 + (i % 90) * 86400000000, 'bench', 'campaign', 0
  FROM $series;
INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, order_id, given)
SELECT 'cb' || i, :tpl, 'm' || (i % 1000000), 'redeemed', 'claimed', 'redeemed',
       1767229200000000 + (i % 90) * 86400000000, 'bench', 'ob' || i, 1000
  FROM $series WHERE i < :u;
INSERT INTO sales_ledger (order_id, kind, key, at, orders, gmv)
SELECT 'ob' || i, 'campaign', :cmp, 1767229200000000 + (i % 90) * 86400000000, 1, 9000
  FROM $series WHERE i < :u;
INSERT INTO sales_ledger (order_id, kind, key, at, orders, gmv)
SELECT 'ob' || i, 'template', :tpl, 1767229200000000 + (i % 90) * 86400000000, 1, 9000
  FROM $series WHERE i < :u;
UPDATE templates SET issued = :g, claimed = :g, used = :u WHERE id = :tpl;
UPDATE campaigns SET entered = :g, treated = :g, granted = :g, spent = CAST(:g AS BIGINT) * 1000 WHERE id = :cmp;
SQL
}

run() {
    local db=$1 kind=$2
    "$QUAN" migrate --database-url "$db" >/dev/null
    "$QUAN" campaigns apply --database-url "$db" "$WORK/playbook.json" > "$WORK/applied"
    local cmp tpl
    cmp=$(grep '^cmp_' "$WORK/applied" | cut -f1)
    tpl=$(grep '^template gift' "$WORK/applied" | cut -f2)
    local start
    start=$(date +%s.%N)
    if [[ $kind == sqlite ]]; then
        python3 - "${db#sqlite://}" "$GRANTS" "$USES" "$tpl" "$cmp" "$(rows_sql n)" <<'PY'
import sqlite3, sys
path, g, u, tpl, cmp, sql = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
con = sqlite3.connect(path, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("BEGIN")
con.execute("CREATE TEMP TABLE n (i INTEGER PRIMARY KEY)")
con.execute("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?) INSERT INTO n SELECT i FROM s", (g - 1,))
for stmt in sql.split(";"):
    if stmt.strip():
        con.execute(stmt.replace(":g", str(g)).replace(":u", str(u)).replace(":tpl", f"'{tpl}'").replace(":cmp", f"'{cmp}'"))
con.execute("COMMIT")
PY
    else
        rows_sql "generate_series(0, :g - 1) AS s (i)" | sed "s/:g/$GRANTS/g; s/:u/$USES/g; s/:tpl/'$tpl'/g; s/:cmp/'$cmp'/g" \
            | psql -q -v ON_ERROR_STOP=1 "$db" >/dev/null
    fi
    echo "   rows written in $(python3 -c "import time; print(f'{time.time() - $start:.1f}')") s"
    start=$(date +%s.%N)
    "$QUAN" report rebuild --database-url "$db"
    echo "   rebuild took $(python3 -c "import time; print(f'{time.time() - $start:.1f}')") s (wall, with start-up)"

    # The baseline: one scan of the campaign's coupons, three times, the best kept.
    if [[ $kind == sqlite ]]; then
        python3 - "${db#sqlite://}" "$cmp" <<'PY'
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1])
best = None
for _ in range(3):
    t = time.perf_counter()
    rows = con.execute("SELECT status, count(*) FROM coupons WHERE campaign_id = ? GROUP BY status", (sys.argv[2],)).fetchall()
    best = min(best or 1e9, time.perf_counter() - t)
print(f"   baseline: scan of the campaign's coupons {best * 1000:8.1f} ms  {sorted(rows)}")
PY
    else
        for _ in 1 2 3; do
            psql -q "$db" -c '\timing on' -c "SELECT status, count(*) FROM coupons WHERE campaign_id = '$cmp' GROUP BY status" \
                | grep Time
        done | sort -t: -k2 -n | head -1 | sed 's/^/   baseline: scan of the campaign'"'"'s coupons /'
    fi

    "$QUAN" serve --database-url "$db" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 300); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    review() {
        curl -s -o "$WORK/review.json" -w '%{time_total}\n' \
            -H "Authorization: Bearer $QUAN_ADMIN_KEY" "127.0.0.1:$PORT/v1/campaigns/$cmp/review"
    }
    review >/dev/null # warm-up
    for _ in $(seq 1 21); do review; done > "$WORK/times"
    python3 - "$WORK/times" "$WORK/review.json" <<'PY'
import json, statistics, sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
f = r["funnel"]
print(f"   review: median {statistics.median(t):6.1f} ms, worst {t[-1]:6.1f} ms of {len(t)}; "
      f"granted {f['granted']}, used {f['used']}, given {r['cost']['discount_given']}, "
      f"orders {r['coupon_orders']['count']}, days {len(r['daily'])}")
PY
    # The dashboard at MEMBERS members.
    python3 - "$MEMBERS" > "$WORK/members.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("id,joined_at,tier,region,channel,guide_id,points,tags")
tiers = ["", "silver", "gold"]
for i in range(n):
    print(f"m{i},2025-{1 + i % 12:02d}-01T00:00:00Z,{tiers[i % 3]},,,,0,")
PY
    kill "$pid"; wait "$pid" 2>/dev/null || true
    start=$(date +%s.%N)
    "$QUAN" import members --database-url "$db" "$WORK/members.csv" >/dev/null
    echo "   $MEMBERS members imported in $(python3 -c "import time; print(f'{time.time() - $start:.1f}')") s"
    "$QUAN" serve --database-url "$db" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    for _ in $(seq 1 5); do
        curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $QUAN_ADMIN_KEY" \
            "127.0.0.1:$PORT/v1/dashboard?days=30"
    done > "$WORK/dash"
    local rss
    rss=$(grep VmHWM "/proc/$pid/status" | awk '{print $2 / 1024}')
    python3 - "$WORK/dash" "$rss" <<'PY'
import statistics, sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
print(f"   dashboard: median {statistics.median(t):7.1f} ms, worst {t[-1]:7.1f} ms of {len(t)}; serve peak RSS {float(sys.argv[2]):.0f} MB")
PY
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

if [[ "${QUAN_BENCH_ONLY:-}" != postgres ]]; then
    echo "== SQLite"
    run "sqlite://$WORK/quan.db" sqlite
fi
if [[ -n "${QUAN_TEST_DATABASE_URL:-}" ]]; then
    echo "== PostgreSQL (a throwaway local server)"
    run "$QUAN_TEST_DATABASE_URL" postgres
fi
