#!/usr/bin/env bash
# `quan allocate` benchmarks (BENCHMARKS.md, "Coupon allocation"): synthetic instances of 10,000,
# 100,000 and 10,000,000 members x 5 coupons (scripts/allocate/generate.py, fixed seed), a budget
# of 2.0 per member (binding: about a third of what everyone's best coupon would cost). Each run
# records the JSON line, the wall time and the peak memory (/usr/bin/time -v); on the two small
# sizes HiGHS solves the LP relaxation of the same file in the same run (scripts/allocate/highs.py).
#
# Usage: scripts/bench-allocate.sh [OUT_DIR]   (default /tmp/quan-bench-allocate; needs numpy,
# pyarrow and scipy: pip install numpy pyarrow scipy). SIZES="10000 100000" to run fewer; CSV=1 to
# time the 10,000,000-member file as CSV too.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/quan-bench-allocate}
mkdir -p "$out"
sizes=${SIZES:-"10000 100000 10000000"}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p quan
quan="$target/release/quan"

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/ {print $2}') GB"
echo "python: $(python3 -c 'import sys, scipy, numpy, pyarrow; print(sys.version.split()[0], "scipy", scipy.__version__, "numpy", numpy.__version__, "pyarrow", pyarrow.__version__)')"

run() { # name input budget [args...]
    local name=$1 input=$2 budget=$3
    shift 3
    /usr/bin/time -v "$quan" allocate --input "$input" --budget "$budget" --output "$out/$name.out.csv" "$@" \
        >"$out/$name.json" 2>"$out/$name.time"
    local rss wall
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$out/$name.time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/$name.time")
    echo "$name: $(cat "$out/$name.json") wall=$wall peak_rss_mb=$rss"
}

for n in $sizes; do
    file="$out/alloc-$n.parquet"
    [ -f "$file" ] || python3 scripts/allocate/generate.py --members "$n" --out "$file"
    budget=$((2 * n))
    run "quan-$n" "$file" "$budget"
    run "quan-$n-stock" "$file" "$budget" --stock "c50=$((n / 20))" --stock "c30=$((n / 10))"
    if [ "$n" -le 100000 ]; then
        echo "highs-$n: $(python3 scripts/allocate/highs.py "$file" --budget "$budget")"
        echo "highs-$n-stock: $(python3 scripts/allocate/highs.py "$file" --budget "$budget" --stock "c50=$((n / 20))" --stock "c30=$((n / 10))")"
    fi
    if [ "$n" -eq 10000000 ] && [ -n "${CSV:-}" ]; then
        csv="$out/alloc-$n.csv"
        [ -f "$csv" ] || python3 -c "import pyarrow.parquet as pq, pyarrow.csv as c; c.write_csv(pq.read_table('$file'), '$csv')"
        run "quan-$n-csv" "$csv" "$budget"
    fi
done
