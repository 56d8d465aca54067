#!/usr/bin/env bash
# A sale's end, when every buyer's action arrives at once: ORDERS [20000] qty-1 orders reserved on SKUS [1] SKUs (one:
# h2load on a hot SKU; more: livebuy-load's catalog scenario, uniform, many buyers), then loadtest/action-burst.py sends
# ACTION [pay] for all of them over CONNECTIONS [400] HTTP/1.1 connections: `pay`, the provider's signed notifies;
# `cancel`, each buyer's cancellation. With OTHER=1 the actions go to a second livebuyd on the same database, which did
# not take the orders (as behind a load balancer). Prints actions/s, the answers' statuses, MariaDB statements per
# action and the CPU used (of the livebuyd that answers them). Durable MariaDB defaults, one livebuyd loop thread
# (THREADS).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18490}
orders=${ORDERS:-20000}
connections=${CONNECTIONS:-400}
skus=${SKUS:-1}
action=${ACTION:-pay}
case "$action" in pay) secret_var=bench_payment ;; cancel) secret_var=bench_secret ;; *) echo "ACTION: pay or cancel" >&2; exit 2 ;; esac

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare
# shellcheck disable=SC2119 # the defaults: no extra flags
start_server
if [ "$skus" -eq 1 ]; then
    make_hot_sku
    say "reserving $orders orders on one SKU"
    h2load -n "$orders" -c 16 -m 10 "${order_args[@]}" | grep -E "^status codes" >&2
else
    out=$work
    load=build/loadtest/livebuy-load
    say "reserving $orders orders over $skus SKUs"
    load_run reserve --scenario catalog --skus "$skus" --rate 5000 --duration "$(((orders + 4999) / 5000))" \
        --buyers 100000 --limit 1 --live-share 0 --join-share 0 --pay-share 0 --cancel-share 0 --dup-share 0
fi
bash scripts/mariadb.sh sql "$work/db" bench -N -e \
    "SELECT id, amount_cents, buyer_id FROM orders WHERE status = 'reserved' LIMIT $orders" >"$work/orders.txt"
orders=$(wc -l <"$work/orders.txt")

if [ "${OTHER:-0}" = 1 ]; then
    first_pid=$server_pid
    port=$((port + 1))
    base="http://127.0.0.1:$port"
    trap 'kill "$first_pid" 2>/dev/null; bench_cleanup' EXIT
    say "a second livebuyd on port $port answers the actions"
    # shellcheck disable=SC2119 # the defaults: no extra flags
    start_server
fi

mariadb_pid=$(cat "$work/db/mysqld.pid")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
statements() {
    bash scripts/mariadb.sh sql "$work/db" -N -e "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | awk '{print $2}'
}
before=$(statements) m1=$(ticks "$mariadb_pid") s1=$(ticks "$server_pid")
say "sending $action for $orders orders at once over $connections connections"
python3 loadtest/action-burst.py "$action" "$port" "${!secret_var}" "$connections" "$work/orders.txt"
after=$(statements) m2=$(ticks "$mariadb_pid") s2=$(ticks "$server_pid")
awk -v n="$orders" -v st=$((after - before)) -v m=$((m2 - m1)) -v s=$((s2 - s1)) -v a="$action" 'BEGIN {
    printf "MariaDB statements per %s %.2f; CPU per %s: mariadbd %.1f us, livebuyd %.1f us\n",
        a, st / n, a, m * 1e4 / n, s * 1e4 / n }'
