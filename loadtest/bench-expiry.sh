#!/usr/bin/env bash
# How fast unpaid reservations go back to stock: livebuy-load reserves ORDERS [40000] qty-1 orders at RATE [10000] a
# second, on one SKU and then over SKUS [1000] SKUs (a new database each), nobody pays, and every half second the
# script counts the orders reserved and expired; livebuyd runs with --reserve-ttl TTL [15]. Prints, for each, how long
# the reservations took to make and to expire (from the first expiry to the last), and the expiries a second.
# Durable MariaDB defaults, one livebuyd loop thread (THREADS); bench-lib.sh's Release build.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18483}
orders=${ORDERS:-40000}
rate=${RATE:-10000}
ttl=${TTL:-15}
spread=${SKUS:-1000}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
out=${OUT:-$root/build/bench-expiry}
mkdir -p "$out"
load=$root/build/loadtest/livebuy-load

# run SKUS: reserve, count until every order has expired, print the line.
run() {
    local skus=$1 poll=$work/poll-$1.txt poller t0
    bash scripts/mariadb.sh sql "$work/db" -e "DROP DATABASE IF EXISTS bench; CREATE DATABASE bench"
    start_server --reserve-ttl "$ttl"
    t0=$(date +%s.%N)
    (
        while :; do
            printf '%s\t%s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$(bash scripts/mariadb.sh sql "$work/db" bench -N -e \
                "SELECT COALESCE(SUM(status = 'reserved'), 0), COALESCE(SUM(status = 'expired'), 0) FROM orders")"
            sleep 0.5
        done >"$poll"
    ) &
    poller=$!
    load_run "expiry-$skus" --scenario catalog --skus "$skus" --buyers $((orders * 4)) --limit 1 --live-share 0 \
        --join-share 0 --pay-share 0 --cancel-share 0 --dup-share 0 --rate "$rate" --duration $((orders / rate)) \
        --connections 16
    local i
    for ((i = 0; i < 4 * ttl + 120; i++)); do
        awk -v n="$orders" 'END { exit !($3 >= n) }' "$poll" && break
        sleep 1
    done
    kill "$poller" 2>/dev/null || true
    wait "$poller" 2>/dev/null || true
    stop_server
    # made: from the first reservation seen to all of them; expired: from the first expiry seen to the last.
    awk -v n="$orders" -v skus="$skus" '
        $2 + $3 > 0 && made0 == "" { made0 = $1 }
        $2 + $3 >= n && made1 == "" { made1 = $1 }
        $3 > 0 && exp0 == "" { exp0 = $1 }
        $3 >= n && exp1 == "" { exp1 = $1 }
        END {
            if (exp1 == "") { printf "%-12s not all expired (see %s)\n", skus " SKU(s)", FILENAME; exit 1 }
            printf "%-12s %8d %10.1f s %12.1f s %14.0f\n", skus, n, made1 - made0, exp1 - exp0, n / (exp1 - exp0 > 0.5 ? exp1 - exp0 : 0.5)
        }' "$poll"
}

bench_prepare
printf '%-12s %8s %12s %14s %14s\n' "SKUs" "orders" "made in" "expired in" "expiries/s"
run 1
run "$spread"
say "reserved at $rate/s, --reserve-ttl $ttl, statuses counted every 0.5 s (each figure is good to about 0.5 s)"
