#!/usr/bin/env bash
# Measures claim throughput over HTTP on SQLite and PostgreSQL, and, in the same run against the
# same PostgreSQL server, the naive one-transaction-per-claim design driven by pgbench.
# Usage: scripts/bench-claim.sh [claims] [connections]     (defaults: 200000, 256)
# REPEAT=n (default 3) runs each quan measurement n times on a fresh database, after flushing
# the disk, and prints the median claims/s. Prints one block per run; BENCHMARKS.md records the
# figures.
set -euo pipefail
cd "$(dirname "$0")/.."
CLAIMS=${1:-200000}
CONNS=${2:-256}
REPEAT=${REPEAT:-3}
export REPEAT
export QUAN_ADMIN_KEY=bench-admin-key
cargo build --release -p quan >/dev/null
QUAN=$PWD/target/release/quan
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_up() {
  for _ in $(seq 1 100); do
    curl -sf "http://$1/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "quan serve on $1 did not start" >&2
  return 1
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
export -f median

run_quan() { # $1 label, $2 database URL, $3 port; one run
  RUST_LOG=warn "$QUAN" serve --listen "127.0.0.1:$3" --database-url "$2" &
  local pid=$!
  wait_up "127.0.0.1:$3"
  echo "== quan bench claim: $1 ($CLAIMS claims, $CONNS connections)"
  "$QUAN" bench claim --url "http://127.0.0.1:$3" --connections "$CONNS" --claims "$CLAIMS" --users 100000 | tee -a "$WORK/$1.out"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
for i in $(seq 1 "$REPEAT"); do
  sync; sleep 2
  run_quan "SQLite" "sqlite://$WORK/bench-$i.db" 18081
  rm -f "$WORK/bench-$i.db"*
done
echo "== SQLite median of $REPEAT runs: $(grep '^claims/s' "$WORK/SQLite.out" | awk '{print $2}' | median) claims/s"

scripts/with-postgres.sh bash -c '
  set -euo pipefail
  base=${QUAN_TEST_DATABASE_URL%/*}
  psql -q "$QUAN_TEST_DATABASE_URL" -c "CREATE DATABASE naive_bench" -c "CREATE DATABASE warm_up"
  # A fresh server first creates and zero-fills its WAL segments and runs its first checkpoints:
  # a throwaway 20 s of writes brings it to the steady state both designs are measured in.
  psql -q "$base/warm_up" -c "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v BIGINT NOT NULL)"
  echo "INSERT INTO t (v) VALUES (1);" > "'"$WORK"'/warm.sql"
  "$QUAN_PG_BIN/pgbench" -n -c 16 -j 2 -T 20 -f "'"$WORK"'/warm.sql" "$base/warm_up" >/dev/null 2>&1
  for i in $(seq 1 "$REPEAT"); do
    sync; sleep 2
    psql -q "$QUAN_TEST_DATABASE_URL" -c "CREATE DATABASE quan_bench_$i"
    RUST_LOG=warn "'"$QUAN"'" serve --listen 127.0.0.1:18082 --database-url "$base/quan_bench_$i" &
    pid=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18082/healthz >/dev/null && break; sleep 0.1; done
    echo "== quan bench claim: PostgreSQL ('"$CLAIMS"' claims, '"$CONNS"' connections)"
    "'"$QUAN"'" bench claim --url http://127.0.0.1:18082 --connections '"$CONNS"' --claims '"$CLAIMS"' --users 100000 | tee -a "'"$WORK"'/pg.out"
    kill $pid; wait $pid 2>/dev/null || true
  done
  echo "== PostgreSQL median of $REPEAT runs: $(grep "^claims/s" "'"$WORK"'/pg.out" | awk "{print \$2}" | median) claims/s"

  echo "== naive baseline: pgbench, one transaction per claim (UPDATE remaining, per-user count, INSERT)"
  psql -q "$base/naive_bench" <<SQL
CREATE TABLE template (id BIGINT PRIMARY KEY, remaining BIGINT NOT NULL);
INSERT INTO template VALUES (1, 1000000000);
CREATE TABLE coupon (id BIGSERIAL PRIMARY KEY, template_id BIGINT NOT NULL, user_id BIGINT NOT NULL, claimed_at TIMESTAMPTZ NOT NULL);
CREATE INDEX coupon_template_user ON coupon (template_id, user_id);
SQL
  cat > "'"$WORK"'/naive.sql" <<SQL
\set uid random(1, 100000)
BEGIN;
UPDATE template SET remaining = remaining - 1 WHERE id = 1 AND remaining > 0;
SELECT count(*) FROM coupon WHERE template_id = 1 AND user_id = :uid;
INSERT INTO coupon (template_id, user_id, claimed_at) VALUES (1, :uid, now());
END;
SQL
  for c in 16 '"$CONNS"'; do
    echo "-- pgbench -c $c"
    "$QUAN_PG_BIN/pgbench" -n -c $c -j 2 -T 20 -f "'"$WORK"'/naive.sql" "$base/naive_bench" 2>&1 | grep -E "^(tps|latency|number of transactions actually)"
  done
'
