#!/usr/bin/env bash
# A burst of payment notifies on one hot SKU, as when a sale ends and the provider reports every payment at once:
# h2load reserves ORDERS [20000] orders on one SKU, then loadtest/pay-burst.py pays them all over CONNECTIONS [400]
# HTTP/1.1 connections. Prints payments/s, the answers' statuses, MariaDB statements per payment and the CPU used.
# Durable MariaDB defaults, one livebuyd loop thread (THREADS).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18490}
orders=${ORDERS:-20000}
connections=${CONNECTIONS:-400}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare
# shellcheck disable=SC2119 # the defaults: no extra flags
start_server
make_hot_sku
say "reserving $orders orders on one SKU"
h2load -n "$orders" -c 16 -m 10 "${order_args[@]}" | grep -E "^status codes" >&2
bash scripts/mariadb.sh sql "$work/db" bench -N -e "SELECT id, amount_cents FROM orders WHERE status = 'reserved'" \
    >"$work/orders.txt"

mariadb_pid=$(cat "$work/db/mysqld.pid")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
statements() {
    bash scripts/mariadb.sh sql "$work/db" -N -e "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | awk '{print $2}'
}
before=$(statements) m1=$(ticks "$mariadb_pid") s1=$(ticks "$server_pid")
say "paying them at once over $connections connections"
python3 loadtest/pay-burst.py "$port" "$bench_payment" "$connections" "$work/orders.txt"
after=$(statements) m2=$(ticks "$mariadb_pid") s2=$(ticks "$server_pid")
awk -v n="$orders" -v st=$((after - before)) -v m=$((m2 - m1)) -v s=$((s2 - s1)) 'BEGIN {
    printf "MariaDB statements per payment %.2f; CPU per payment: mariadbd %.1f us, livebuyd %.1f us\n",
        st / n, m * 1e4 / n, s * 1e4 / n }'
