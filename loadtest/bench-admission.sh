#!/usr/bin/env bash
# Orders while another route floods the database pool: h2load sends GET /v1/merchant/orders with an unknown merchant
# token (each one a database look-up, answered 401) on 8 connections x 100 streams, and livebuy-load's catalog scenario
# sends RATE [10000] orders a second over 1,000 SKUs (open model, 8 s) meanwhile. Prints the orders' latencies, what the
# flood got, and the admission's counters (docs/design.md, "Admission to the database pool"; docs/benchmarks.md).
# Usage: loadtest/bench-admission.sh   (settings by environment: RATE, LIVEBUYD [build/livebuyd, built Release here]: the
#        binary to run, e.g. an older build to compare with)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18497}
out=${OUT:-$root/build/bench-admission}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare_load
binary=${LIVEBUYD:-$root/build/livebuyd}
"$binary" --db "$db" --listen "127.0.0.1:$port" --threads 1 --admin-token "$bench_admin" --buyer-secret "$bench_secret" \
    --payment-secret "$bench_payment" --max-queue 1000000 --max-buyer-orders 0 --max-connection-orders 0 \
    >"$work/livebuyd.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    curl -sf "$base/healthz" >/dev/null && break
    sleep 0.1
done
duration=2 catalog warm-up --concurrency 400 --connections 4 --streams 100 --skus 1
h2load -D 12 -c 8 -m 100 -H 'authorization: Bearer not-a-merchant-token-0123456789' "$base/v1/merchant/orders" \
    >"$work/flood.txt" 2>&1 &
flood=$!
sleep 2
say "orders: ${RATE:-10000} a second over 1,000 SKUs for 8 s, during the flood"
duration=8 catalog orders --skus 1000 --rate "${RATE:-10000}" --connections 16
wait "$flood" || true
python3 - "$out/orders.json" "$work/flood.txt" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
flood = open(sys.argv[2]).read()
rate = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", flood)
codes = re.search(r"status codes: (.*)", flood)
print("orders: %.0f/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (r["throughput_rps"], r["latency_us"]["p50"] / 1e3,
      r["latency_us"]["p99"] / 1e3, r["latency_us"]["max"] / 1e3))
print("flood: %s requests/s answered (%s)" % (rate.group(1) if rate else "?", codes.group(1) if codes else "?"))
PY
curl -s "$base/metrics" | grep -E '^livebuy_calls_(waiting|refused_total) ' || true
stop_server
