#!/usr/bin/env bash
# Measures POST /v1/checkout/quote over HTTP with wrk on a SQLite-backed quan: 100 members each
# holding 10 coupons (store, product and platform, thresholds that bind) quote a 10-line cart
# over 3 stores. Usage: [QUAN=binary] scripts/bench-quote.sh [seconds] [connections]   (defaults: 10, 64)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-64}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
export QUAN_ADMIN_KEY=bench-admin-key
# QUAN=path/to/quan measures that binary (to compare builds); otherwise the release build.
if [[ -z "${QUAN:-}" ]]; then
  cargo build --release -p quan >/dev/null
  QUAN=${CARGO_TARGET_DIR:-target}/release/quan
fi
WORK=$(mktemp -d)
RUST_LOG=warn "$QUAN" serve --listen 127.0.0.1:18084 --database-url "sqlite://$WORK/q.db" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18084/healthz >/dev/null && break; sleep 0.1; done
python3 - <<'PY'
import json, urllib.request
B = "http://127.0.0.1:18084"; K = "bench-admin-key"
def call(path, body):
    r = urllib.request.Request(B + path, data=json.dumps(body).encode(), method="POST",
                               headers={"Authorization": "Bearer " + K, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r))
def tpl(scope, thr, off):
    fund = {"platform_bp": 10000, "merchant_bp": 0} if scope["kind"] == "platform" else {"platform_bp": 0, "merchant_bp": 10000}
    t = call("/v1/templates", {"name": "b", "scope": scope, "benefit": {"kind": "reduction", "threshold": thr, "off": off},
                               "validity": {"kind": "relative", "days": 30}, "funding": fund})
    call(f"/v1/templates/{t['id']}/activate", {})
    return t["id"]
ts = [tpl({"kind": "store", "store_id": s}, thr, off) for s, thr, off in [("A", 20000, 2000), ("A", 10000, 800), ("B", 15000, 1500), ("C", 5000, 500)]]
ts += [tpl({"kind": "product", "store_id": s, "skus": [k]}, 0, off) for s, k, off in [("A", "a1", 900), ("A", "a2", 700), ("B", "b1", 1200), ("C", "c1", 300)]]
ts += [tpl({"kind": "platform"}, thr, off) for thr, off in [(30000, 3000), (45000, 5000)]]
for u in range(100):
    for t in ts:
        call(f"/v1/templates/{t}/claim", {"user_id": f"q{u}", "channel": "app"})
PY
CART='[{"line_id":"1","sku":"a1","store_id":"A","unit_price":9000,"qty":1},{"line_id":"2","sku":"a2","store_id":"A","unit_price":7000,"qty":1},{"line_id":"3","sku":"a3","store_id":"A","unit_price":5000,"qty":1},{"line_id":"4","sku":"b1","store_id":"B","unit_price":8000,"qty":1},{"line_id":"5","sku":"b2","store_id":"B","unit_price":6000,"qty":1},{"line_id":"6","sku":"b3","store_id":"B","unit_price":3000,"qty":1},{"line_id":"7","sku":"c1","store_id":"C","unit_price":2500,"qty":1},{"line_id":"8","sku":"c2","store_id":"C","unit_price":1500,"qty":1},{"line_id":"9","sku":"c3","store_id":"C","unit_price":900,"qty":1},{"line_id":"10","sku":"c4","store_id":"C","unit_price":600,"qty":1}]'
echo "== wrk -t2 -c$CONNS -d${SECS}s POST /v1/checkout/quote (10 lines, 3 stores, 10 coupons)"
CART=$CART wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s scripts/bench/quote.lua http://127.0.0.1:18084/v1/checkout/quote | grep -E "Requests/sec|50%|99%|requests"
