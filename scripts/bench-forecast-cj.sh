#!/usr/bin/env bash
# The forecast of a campaign held back, against what it did: the Complete Journey imported
# without campaign 13 (`quan import completejourney --hold-back 13`), then `POST /v1/forecasts`
# for campaign 13's coupon (a 0.90 reduction, the mean coupon discount on its products in its
# window) to its 1,077 households, 207 coupons each (222,939), as of its start (2017-08-08): the
# expected use rate from the tenant's history before then (the redemption model when it has
# enough settled coupons). The actual rate is counted here from the Parquet files: distinct
# (household, coupon UPC) pairs of campaign 13 redeemed, over the coupons.
# Needs python3 with pyarrow (`pip install pyarrow`) for the count. A release build.
# Usage: [QUAN=binary] scripts/bench-forecast-cj.sh [data directory]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(realpath "${1:-../shared/data/completejourney}")
if [[ -z "${QUAN:-}" ]]; then
    cargo build --release -q -p quan
    QUAN=${CARGO_TARGET_DIR:-target}/release/quan
fi
QUAN=$(realpath "$QUAN")
python3 -c "import pyarrow" 2>/dev/null || pip install -q pyarrow
WORK=$(mktemp -d)
PORT=18592
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export RUST_LOG=warn QUAN_ADMIN_KEY=bench-admin-key
DB="sqlite://$WORK/quan.db"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
start=$(date +%s.%N)
"$QUAN" import completejourney --database-url "$DB" "$DATA" --hold-back 13 | grep -E "campaigns|completejourney"
echo "   imported in $(python3 -c "import time; print(f'{time.time() - $start:.0f}')") s"
"$QUAN" serve --database-url "$DB" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
for _ in $(seq 1 300); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$DATA" "$PORT" <<'PY'
import json, sys, time, urllib.request
import pyarrow.parquet as pq
data, port = sys.argv[1], sys.argv[2]
def call(method, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body).encode(), headers={"Authorization": "Bearer bench-admin-key",
        "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3600) as r:
        return json.load(r)
households = sorted({r["household_id"] for r in pq.read_table(f"{data}/campaigns.parquet").to_pylist()
                     if r["campaign_id"] == 13})
upcs = {r["coupon_upc"] for r in pq.read_table(f"{data}/coupons.parquet").to_pylist() if r["campaign_id"] == 13}
pairs = {(r["household_id"], r["coupon_upc"]) for r in pq.read_table(f"{data}/coupon_redemptions.parquet").to_pylist()
         if r["campaign_id"] == 13}
issued = len(households) * len(upcs)
seg = call("POST", "/v1/segments", {"name": "campaign 13 households", "member_ids": [str(h) for h in households]})
body = {"template": {"name": "campaign 13 coupon", "scope": {"kind": "platform"},
          "benefit": {"kind": "reduction", "threshold": 0, "off": 90},
          "validity": {"kind": "fixed", "valid_from": "2017-08-08T00:00:00Z", "valid_until": "2017-09-25T00:00:00Z"},
          "distribution": ["campaign_only"], "funding": {"platform_bp": 0, "merchant_bp": 0, "supplier_bp": 10000}},
        "audience": {"kind": "segment", "segment_id": seg["id"]}, "issued": issued,
        "as_of": "2017-08-08T00:00:00Z"}
t = time.time()
f = call("POST", "/v1/forecasts", body)
took = time.time() - t
actual_bp = len(pairs) * 10000 / issued
print(f"   forecast ({took:.1f} s): basis {f['basis']} from {f['examples']} settled coupons, "
      f"expected use {f['expected_use_bp']} bp, expected used {f['expected_used']} of {issued}, "
      f"audience {f['audience']}")
print(f"   actual (the Parquet files): {len(pairs)} of {issued} used, {actual_bp:.1f} bp; "
      f"forecast / actual = {f['expected_use_bp'] / actual_bp:.2f}")
PY
