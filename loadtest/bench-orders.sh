#!/usr/bin/env bash
# The order-path benchmark, in one run on this machine (h2load, cleartext HTTP/2 with prior knowledge):
#   1. GET /healthz: the ceiling of the HTTP layer;
#   2. POST /v1/orders on one hot SKU with default batching;
#   3. the same with --max-batch 1 (one transaction per order, the baseline batching is measured against);
# then prints the three rates and the ratios. Durable MariaDB defaults (innodb_flush_log_at_trx_commit=1).
# Usage: loadtest/bench-orders.sh   (settings by environment: DURATION [10] seconds per run, CLIENTS [64] connections,
#        STREAMS [100] concurrent streams per connection, THREADS [1] livebuyd loop threads, H2LOAD_THREADS [1],
#        LIVEBUYD_FLAGS [none] more livebuyd flags for every run)
# loadtest/bench.sh runs these and livebuy-load's scenarios side by side.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18480}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare

start_server
make_hot_sku
say "GET /healthz for ${duration}s ($clients connections x $streams streams)"
healthz=$(rate healthz "$base/healthz")
say "POST /v1/orders, one hot SKU, default batching"
batched=$(rate batched "${order_args[@]}")
stop_server

start_server --max-batch 1
say "POST /v1/orders, one hot SKU, --max-batch 1"
single=$(rate single "${order_args[@]}")
stop_server

bash scripts/mariadb.sh sql "$work/db" bench -e \
    "SELECT stock, reserved, sold, (SELECT COUNT(*) FROM orders) AS orders FROM skus WHERE id = $sku" >&2

echo
printf '%-46s %12s\n' "what (h2load, h2c, ${duration}s each)" "req/s"
printf '%-46s %12s\n' "GET /healthz" "$healthz"
printf '%-46s %12s\n' "POST /v1/orders hot SKU, batching" "$batched"
printf '%-46s %12s\n' "POST /v1/orders hot SKU, --max-batch 1" "$single"
awk -v b="$batched" -v s="$single" -v h="$healthz" 'BEGIN {
    printf "%-46s %12.1fx\n", "batching / --max-batch 1", (s > 0 ? b / s : 0)
    printf "%-46s %12.2fx\n", "batching / healthz", (h > 0 ? b / h : 0)
}'
