#!/usr/bin/env bash
# Runs the README's five-minute tour word for word, as a newcomer would: its ```sh block, in a
# folder that holds the repository's examples/, against `quan serve` on a fresh SQLite database
# on port 8080 with QUAN_ADMIN_KEY=change-me (the set-up's command). Every curl's HTTP status
# is recorded; the run fails if a command fails (the tour runs under `set -euo pipefail`, and
# `jq -e` refuses an answer without the id it takes), if any answer is a 5xx, or if the 4xx
# answers differ from those the tour's `# -> 4xx` comments show, in order.
# Usage: [TOUR_SHOW=1] scripts/check-readme-tour.sh [QUAN_BINARY]   (default target/debug/quan;
#        TOUR_SHOW=1 prints every answer and status)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUAN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/quan}")
command -v jq >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null; }
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
awk '/^## A five-minute tour/ {t = 1} t && /^```sh$/ {f = 1; next} f && /^```$/ {exit} f {print}' \
  README.md >"$WORK/tour.sh"
[[ -s $WORK/tour.sh ]] || { echo "README: no tour block found"; exit 1; }
grep -oE '^# -> 4[0-9]{2}' "$WORK/tour.sh" | awk '{print $3}' >"$WORK/expected" || true

QUAN_ADMIN_KEY=change-me RUST_LOG=warn "$QUAN" serve --database-url "sqlite://$WORK/quan.db" \
  >"$WORK/serve.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf localhost:8080/healthz >/dev/null && break; sleep 0.1; done
curl -sf localhost:8080/healthz >/dev/null || { cat "$WORK/serve.log"; echo "quan serve did not start"; exit 1; }

mkdir "$WORK/newcomer"
ln -s "$ROOT/examples" "$WORK/newcomer/examples"
cd "$WORK/newcomer"
export STATUSES=$WORK/statuses
# curl as the tour types it, with its status and URL written beside (to a file, not the output).
curl() { command curl -w '%{stderr}%{http_code} %{method} %{url_effective}\n' "$@" 2>>"$STATUSES"; }
export -f curl
if ! bash -euo pipefail "$WORK/tour.sh" >"$WORK/out" 2>"$WORK/err"; then
  tail -20 "$WORK/out" "$WORK/err" "$STATUSES"
  echo "README tour: a command failed"
  exit 1
fi
if grep -E '^(5[0-9]{2}|000) ' "$STATUSES"; then
  echo "README tour: a server error or no answer"
  exit 1
fi
grep -oE '^4[0-9]{2}' "$STATUSES" >"$WORK/refused" || true
if ! diff "$WORK/expected" "$WORK/refused"; then
  grep -E '^4' "$STATUSES"
  echo "README tour: refusals differ from the tour's '# -> 4xx' comments (left: shown, right: answered)"
  exit 1
fi
if [[ -n ${TOUR_SHOW:-} ]]; then cat "$WORK/out" "$STATUSES"; fi
echo "README tour: $(wc -l <"$STATUSES") calls answered as shown ($(wc -l <"$WORK/refused") refusals, as the tour says)"
