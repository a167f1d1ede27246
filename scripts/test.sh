#!/usr/bin/env bash
# Runs quan's whole test suite on a fresh machine: formatting, lints, unit and property tests,
# and every storage and API test on SQLite and on a real PostgreSQL server that
# scripts/with-postgres.sh installs (if missing) and starts for the run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo build (tests)"
cargo test --workspace --locked --no-run
echo "== cargo test on SQLite and PostgreSQL"
scripts/with-postgres.sh cargo test --workspace --locked
