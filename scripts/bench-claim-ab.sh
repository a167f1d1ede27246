#!/usr/bin/env bash
# Compares two builds of quan serve on SQLite claims, interleaved so that both meet the shared
# host in the same state (its speed drifts by a third over minutes). Both are driven by the
# same load generator (the second build's `quan bench claim`).
# Usage: scripts/bench-claim-ab.sh OLD_QUAN NEW_QUAN [pairs] [connections] [claims]
#        (defaults: 3 pairs, 256 connections, 200000 claims)
# With QUAN_BENCH_PG_URL set (a PostgreSQL URL whose user may CREATE DATABASE, such as the one
# scripts/with-postgres.sh exports), each run serves a fresh PostgreSQL database instead.
# Prints, per run: claims/s, p50/p99, the CPU each server thread and the load generator spent
# per claim (µs), and the bytes the server wrote per claim (WAL and checkpoints).
set -euo pipefail
OLD=$1
NEW=$2
PAIRS=${3:-3}
CONNS=${4:-256}
CLAIMS=${5:-200000}
export QUAN_ADMIN_KEY=bench-admin-key
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
TICK=$(getconf CLK_TCK)

cpu_by_thread() { # $1 pid: "thread-name ticks" summed per name
  for t in /proc/"$1"/task/*; do
    echo "$(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
  done | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}

run() { # $1 label, $2 server binary
  rm -f "$WORK"/b.db*
  local url="sqlite://$WORK/b.db"
  if [[ -n ${QUAN_BENCH_PG_URL:-} ]]; then
    local name="quan_ab_$RANDOM$RANDOM"
    psql -q "$QUAN_BENCH_PG_URL" -c "CREATE DATABASE $name"
    url="${QUAN_BENCH_PG_URL%/*}/$name"
  fi
  sync
  sleep 2
  RUST_LOG=warn "$2" serve --listen 127.0.0.1:18090 --database-url "$url" \
    >"$WORK/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.1; done
  cpu_by_thread "$pid" >"$WORK/cpu0"
  local w0 w1
  w0=$(awk '/^wchar/ {print $2}' /proc/"$pid"/io)
  /usr/bin/time -f "%U %S" -o "$WORK/client.time" "$NEW" bench claim --url http://127.0.0.1:18090 \
    --connections "$CONNS" --claims "$CLAIMS" --users 100000 >"$WORK/bench.out"
  cpu_by_thread "$pid" >"$WORK/cpu1"
  w1=$(awk '/^wchar/ {print $2}' /proc/"$pid"/io)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  local rate threads client
  rate=$(grep -E '^(claims/s|latency p50|latency p99)' "$WORK/bench.out" | awk '{print $NF == "ms" ? $(NF-1) : $NF}' | xargs)
  threads=$(join "$WORK/cpu0" "$WORK/cpu1" | awk -v n="$CLAIMS" -v hz="$TICK" \
    '{d = ($3 - $2) * 1e6 / hz / n; if (d >= 1) printf "%s=%.0f ", $1, d; s += d} END {printf "server=%.0f", s}')
  client=$(awk -v n="$CLAIMS" '{printf "%.0f", ($1 + $2) * 1e6 / n}' "$WORK/client.time")
  echo "$1: claims/s p50 p99 = $rate | µs/claim $threads client=$client | bytes written/claim $(((w1 - w0) / CLAIMS))"
}

for _ in $(seq 1 "$PAIRS"); do
  run old "$OLD"
  run new "$NEW"
done
