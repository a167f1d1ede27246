#!/usr/bin/env bash
# The propensity backtest on the Complete Journey data (../shared/data/completejourney): trains
# `quan model backtest` on the campaigns that ended before 2017-08-01 and scores campaign 13
# (Type A), then, in the same run, the plain baseline (scripts/backtest_baseline.py: a logistic
# regression on RFM features it computes itself from the Parquet files, same as-of rule, same
# training campaigns), and prints both AUCs.
# Usage: scripts/bench-backtest.sh [train-until] [test-campaign]
set -euo pipefail
cd "$(dirname "$0")/.."
UNTIL=${1:-2017-08-01}
TEST=${2:-13}
DATA=${QUAN_CJ_DATA:-../shared/data/completejourney}
TARGET=${CARGO_TARGET_DIR:-target}
python3 -c "import sklearn, pandas, pyarrow" 2>/dev/null || pip install -q scikit-learn pandas pyarrow
cargo build --release -p quan >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export RUST_LOG=warn
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== quan model backtest --train-until $UNTIL --test-campaign $TEST"
/usr/bin/time -f "wall %e s, max RSS %M KiB" "$TARGET/release/quan" model backtest --data "$DATA" \
    --train-until "$UNTIL" --test-campaign "$TEST" --scores "$WORK/scores.csv" | tee "$WORK/model"
echo "== baseline: logistic regression on RFM (scikit-learn)"
/usr/bin/time -f "wall %e s, max RSS %M KiB" python3 scripts/backtest_baseline.py --data "$DATA" \
    --train-until "$UNTIL" --test-campaign "$TEST" | tee "$WORK/baseline"
echo "== AUC on campaign $TEST"
echo "model:    $(grep -m1 '^AUC' "$WORK/model")"
echo "baseline: $(grep -m1 '^baseline AUC' "$WORK/baseline" | sed 's/^baseline //')"
