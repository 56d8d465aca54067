#!/usr/bin/env bash
# The order-path benchmark, in one run on this machine (h2load, cleartext HTTP/2 with prior knowledge):
#   1. GET /healthz: the ceiling of the HTTP layer;
#   2. POST /v1/orders on one hot SKU with default batching;
#   3. the same with --max-batch 1 (one transaction per order, the baseline batching is measured against);
# then prints the three rates and the ratios. Durable MariaDB defaults (innodb_flush_log_at_trx_commit=1).
# Usage: loadtest/bench-orders.sh   (settings by environment: DURATION [10] seconds per run, CLIENTS [64] connections,
#        STREAMS [100] concurrent streams per connection, THREADS [1] livebuyd loop threads, H2LOAD_THREADS [1])
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
duration=${DURATION:-10}
clients=${CLIENTS:-64}
streams=${STREAMS:-100}
threads=${THREADS:-1}
h2load_threads=${H2LOAD_THREADS:-1}
port=${PORT:-18480}
admin=bench-admin-token-0123456789
secret=bench-buyer-secret-0123456789

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

bash scripts/deps.sh openssl
say "building Release into build/"
build_into build -DCMAKE_BUILD_TYPE=Release

work=$(mktemp -d /tmp/livebuy-bench.XXXXXX)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    bash scripts/mariadb.sh stop "$work/db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

bash scripts/mariadb.sh start "$work/db" >/dev/null
bash scripts/mariadb.sh sql "$work/db" -e "CREATE DATABASE bench"
db="mysql://root@localhost/bench?socket=$work/db/mysqld.sock"

start_server() { # extra livebuyd flags...
    build/livebuyd --db "$db" --listen "127.0.0.1:$port" --threads "$threads" --admin-token "$admin" \
        --buyer-secret "$secret" --max-queue 1000000 "$@" >"$work/livebuyd.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    cat "$work/livebuyd.log" >&2
    exit 1
}

stop_server() {
    kill "$server_pid" && wait "$server_pid" || true
    server_pid=""
}

# Runs h2load and prints its request rate; the whole output is kept in $work/NAME.txt.
rate() { # name h2load-args...
    local name=$1
    shift
    h2load -D "$duration" -c "$clients" -m "$streams" -t "$h2load_threads" "$@" >"$work/$name.txt" 2>&1 || true
    grep -E '^status codes:' "$work/$name.txt" | sed "s/^/bench: $name /" >&2
    awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "req/s,") { printf "%d\n", $i; exit } }' "$work/$name.txt"
}

start_server
merchant=$(curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name":"bench co-op","kind":"coop"}' "http://127.0.0.1:$port/v1/merchants" | sed -E 's/.*"token":"([^"]+)".*/\1/')
sku=$(curl -sf -H "Authorization: Bearer $merchant" -H 'Content-Type: application/json' \
    -d '{"title":"武乡小米","unit":"袋","skus":[{"name":"2.5kg","price_cents":3980,"stock":1000000000,"weight_grams":2500}]}' \
    "http://127.0.0.1:$port/v1/products" | sed -E 's/.*"skus":\[\{"id":([0-9]+).*/\1/')
expiry=$(($(date +%s) + 86400))
sig=$(printf 'b1.1001.%s' "$expiry" | openssl dgst -sha256 -hmac "$secret" | sed 's/.*= //')
token="b1.1001.$expiry.$sig"
printf '{"sku_id":%s,"qty":1,"ship_to":{"name":"王芳","phone":"13800000000","address":"山西省长治市武乡县"}}' "$sku" >"$work/order.json"
order_args=(-d "$work/order.json" -H 'content-type: application/json' -H "authorization: Bearer $token"
    "http://127.0.0.1:$port/v1/orders")

say "GET /healthz for ${duration}s ($clients connections x $streams streams)"
healthz=$(rate healthz "http://127.0.0.1:$port/healthz")
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
