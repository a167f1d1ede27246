#!/usr/bin/env bash
# Counts the instructions quan serve executes per claim on SQLite, under valgrind's callgrind:
# a deterministic measure of the work per claim, unmoved by the shared host's noise (throughput
# is measured by scripts/bench-claim-ab.sh). Each build serves a fresh database; `quan bench
# claim` (of the last build given) makes SMALL then LARGE claims of one template, and the
# difference of the two runs' totals over LARGE − SMALL is the cost of a claim, start-up left
# out. Batches under valgrind are smaller than at full speed, so run it with few connections
# (small batches, per-batch costs weigh) and many (large batches).
# Usage: scripts/bench-claim-instructions.sh BUILD... [-- CONNECTIONS...]
#        (default connections: 8 128; SMALL=1000 LARGE=6000)
set -euo pipefail
command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
builds=()
while [[ $# -gt 0 && $1 != -- ]]; do builds+=("$(realpath "$1")"); shift; done
[[ ${1:-} == -- ]] && shift
if [[ $# -gt 0 ]]; then conns=("$@"); else conns=(8 128); fi
SMALL=${SMALL:-1000}
LARGE=${LARGE:-6000}
CLIENT=${builds[-1]}
export QUAN_ADMIN_KEY=bench-admin-key

total() { # $1 build, $2 connections, $3 claims: instructions of the whole serve process
  local work pid
  work=$(mktemp -d)
  RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$1" serve \
    --listen 127.0.0.1:18095 --database-url "sqlite://$work/b.db" >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf http://127.0.0.1:18095/healthz >/dev/null && break; sleep 0.2; done
  "$CLIENT" bench claim --url http://127.0.0.1:18095 --connections "$2" --claims "$3" \
    --users 100000 >/dev/null
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$work/cg.out"
  rm -rf "$work"
}

echo "== instructions per claim, SQLite, callgrind ($SMALL and $LARGE claims)"
for c in "${conns[@]}"; do
  for b in "${builds[@]}"; do
    small=$(total "$b" "$c" "$SMALL")
    large=$(total "$b" "$c" "$LARGE")
    echo "$(basename "$b"), $c connections: $(((large - small) / (LARGE - SMALL))) instructions per claim"
  done
done
