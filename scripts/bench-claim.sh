#!/usr/bin/env bash
# Measures claim throughput over HTTP on SQLite and PostgreSQL, and, in the same run against the
# same PostgreSQL server, the naive one-transaction-per-claim design driven by pgbench.
# Usage: scripts/bench-claim.sh [claims] ["connection counts"]   (defaults: 200000, "256 512")
# REPEAT=n (default 3) runs each quan measurement n times on a fresh database, after flushing
# the disk, and prints the median claims/s per backend and connection count. Before every run
# a CPU probe (SHA-256 of 400 MiB, one core) shows how fast the shared host was at the time.
# Prints one block per run; BENCHMARKS.md records the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
CLAIMS=${1:-200000}
CONNS_LIST=${2:-256 512}
REPEAT=${REPEAT:-3}
export REPEAT CLAIMS CONNS_LIST
export QUAN_ADMIN_KEY=bench-admin-key
cargo build --release -p quan >/dev/null
QUAN=$PWD/target/release/quan
WORK=$(mktemp -d)
export QUAN WORK
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

probe() {
  local t0 t1
  t0=$(date +%s%N)
  head -c 400M /dev/zero | sha256sum >/dev/null
  t1=$(date +%s%N)
  echo "cpu probe           $(( (t1 - t0) / 1000000 )) ms"
}

# One run: $1 label, $2 database URL, $3 port, $4 connections.
run_quan() {
  sync; sleep 2
  probe
  RUST_LOG=warn "$QUAN" serve --listen "127.0.0.1:$3" --database-url "$2" &
  local pid=$!
  wait_up "127.0.0.1:$3"
  echo "== quan bench claim: $1 ($CLAIMS claims, $4 connections)"
  "$QUAN" bench claim --url "http://127.0.0.1:$3" --connections "$4" --claims "$CLAIMS" --users 100000 | tee -a "$WORK/$1-$4.out"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

summary() { # $1 label
  for c in $CONNS_LIST; do
    echo "== $1, $c connections: median of $REPEAT runs $(grep '^claims/s' "$WORK/$1-$c.out" | awk '{print $2}' | median) claims/s"
  done
}
export -f wait_up median probe run_quan summary

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
for c in $CONNS_LIST; do
  for i in $(seq 1 "$REPEAT"); do
    run_quan "SQLite" "sqlite://$WORK/bench-$c-$i.db" 18081 "$c"
    rm -f "$WORK/bench-$c-$i.db"*
  done
done
summary SQLite

scripts/with-postgres.sh bash -c '
  set -euo pipefail
  base=${QUAN_TEST_DATABASE_URL%/*}
  psql -q "$QUAN_TEST_DATABASE_URL" -c "CREATE DATABASE naive_bench" -c "CREATE DATABASE warm_up"
  # A fresh server first creates and zero-fills its WAL segments and runs its first checkpoints:
  # a throwaway 20 s of writes brings it to the steady state both designs are measured in.
  psql -q "$base/warm_up" -c "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v BIGINT NOT NULL)"
  echo "INSERT INTO t (v) VALUES (1);" > "$WORK/warm.sql"
  "$QUAN_PG_BIN/pgbench" -n -c 16 -j 2 -T 20 -f "$WORK/warm.sql" "$base/warm_up" >/dev/null 2>&1
  for c in $CONNS_LIST; do
    for i in $(seq 1 "$REPEAT"); do
      psql -q "$QUAN_TEST_DATABASE_URL" -c "CREATE DATABASE quan_bench_${c}_$i"
      run_quan PostgreSQL "$base/quan_bench_${c}_$i" 18082 "$c"
    done
  done
  summary PostgreSQL

  echo "== naive baseline: pgbench, one transaction per claim (UPDATE remaining, per-user count, INSERT)"
  psql -q "$base/naive_bench" <<SQL
CREATE TABLE template (id BIGINT PRIMARY KEY, remaining BIGINT NOT NULL);
INSERT INTO template VALUES (1, 1000000000);
CREATE TABLE coupon (id BIGSERIAL PRIMARY KEY, template_id BIGINT NOT NULL, user_id BIGINT NOT NULL, claimed_at TIMESTAMPTZ NOT NULL);
CREATE INDEX coupon_template_user ON coupon (template_id, user_id);
SQL
  cat > "$WORK/naive.sql" <<SQL
\set uid random(1, 100000)
BEGIN;
UPDATE template SET remaining = remaining - 1 WHERE id = 1 AND remaining > 0;
SELECT count(*) FROM coupon WHERE template_id = 1 AND user_id = :uid;
INSERT INTO coupon (template_id, user_id, claimed_at) VALUES (1, :uid, now());
END;
SQL
  # pgbench opens one server connection per client: 16 (its best) and 256 (the
  # throwaway server allows 300 connections).
  for c in 16 256; do
    probe
    echo "-- pgbench -c $c"
    "$QUAN_PG_BIN/pgbench" -n -c $c -j 2 -T 20 -f "$WORK/naive.sql" "$base/naive_bench" 2>&1 | grep -E "^(tps|latency|number of transactions actually)"
  done
'
