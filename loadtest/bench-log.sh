#!/usr/bin/env bash
# What the access log costs: livebuyd's own CPU time per request (utime + stime from /proc/PID/stat, which a busy
# machine blurs less than requests per second), with --access-log on and off, for GET /healthz (the most requests a
# second, so the largest share) and hot-SKU orders; the runs alternate, ROUNDS [2] times. The log goes to a file.
# Usage: loadtest/bench-log.sh   (settings by environment as loadtest/bench-orders.sh, and ROUNDS)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18480}
rounds=${ROUNDS:-2}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare

start_server
make_hot_sku
stop_server

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

# One run: prints "req/s us-of-CPU-per-request" for access log $1 and the h2load arguments that follow.
measure() { # on|off name h2load-args...
    local access=$1 name=$2 before after requests
    shift 2
    start_server --access-log "$access"
    before=$(cpu_ticks)
    rate "$name" "$@" >"$work/$name.rate"
    after=$(cpu_ticks)
    requests=$(awk '/^requests:/ { print $8; exit }' "$work/$name.txt")
    stop_server
    awk -v r="$(cat "$work/$name.rate")" -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%8d %8.2f\n", r, (n > 0 ? t / hz * 1e6 / n : 0) }'
}

printf '%-30s %-4s %8s %8s\n' "what (h2load, ${duration}s)" log "req/s" "CPU us" >"$work/table"
for round in $(seq "$rounds"); do
    for access in on off; do
        printf '%-30s %-4s %s\n' "GET /healthz" $access "$(measure $access healthz-$access-$round "$base/healthz")" >>"$work/table"
        printf '%-30s %-4s %s\n' "POST /v1/orders hot SKU" $access \
            "$(measure $access orders-$access-$round "${order_args[@]}")" >>"$work/table"
    done
done
echo
cat "$work/table"
