#!/usr/bin/env bash
# Runs quan's whole test suite on a fresh machine: formatting, lints, unit and property tests,
# the store's conformance suite and every API test on SQLite and on a real PostgreSQL server
# that scripts/with-postgres.sh installs (if missing) and starts for the run, and the OpenAPI
# document as client generators read it, the README's five-minute tour run word for word
# (scripts/check-readme-tour.sh), and the web front end (type checks, then end-to-end
# tests in Debian's headless Chromium against a real quan serve, scripts/web-test.sh). Ends
# with how many tests ran on each backend.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
# One build from clean: incremental caches would only double what it writes to disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo build (tests)"
cargo test --workspace --locked --no-run
echo "== cargo test on SQLite and PostgreSQL"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
status=0
scripts/with-postgres.sh cargo test --workspace --locked 2>&1 | tee "$LOG" || status=$?
echo "== OpenAPI document"
cargo build --locked -q -p quan
scripts/check-openapi.sh "$TARGET/debug/quan" || status=1
echo "== the README's tour, word for word"
scripts/check-readme-tour.sh "$TARGET/debug/quan" || status=1
echo "== web front end (Chromium, on SQLite and PostgreSQL)"
scripts/web-test.sh "$TARGET/debug/quan" both || status=1

# Per backend: the store's conformance suite, and the API tests.
awk '
    /^     Running / { suite = ($0 ~ /conformance/) ? "conformance" : "api" }
    /^test .*::(sqlite|postgres) \.\.\. / {
        split($2, parts, "::"); backend = parts[length(parts)]
        outcome = $NF
        count[suite " " backend " " outcome]++
    }
    END {
        printf "== tests per backend (passed / failed)\n"
        split("conformance api", suites, " ")
        for (i = 1; i <= 2; i++) for (b = 0; b < 2; b++) {
            be = b == 0 ? "sqlite" : "postgres"
            k = suites[i] " " be
            printf "   %-12s %-9s %4d passed %4d failed\n", suites[i], be, count[k " ok"], count[k " FAILED"]
        }
    }' "$LOG"
exit "$status"
