#!/usr/bin/env bash
# The open model over many SKUs, several runs in a row on one livebuyd (a durable MariaDB, as bench-catalog.sh starts
# them): livebuy-load's catalog scenario, qty-1 direct orders by 100,000 buyers arriving at RATE a second. Each run prints
# its rate, p50 and p99 (and each second's p99), and, over a 2-second window in its middle: the order transactions a
# second and what one carries (SKUs, orders), and the CPU per order of mariadbd and of livebuyd (its first thread, the
# event loop when THREADS is 1, apart from the rest, the database workers). What bounds a run's p99 shows there
# (docs/benchmarks.md, "Spread over many SKUs"). Every run is checked for correctness; a failed check fails the script.
# Usage: loadtest/bench-open.sh   (settings by environment: RATE [25000] arrivals a second, RUNS [3], DURATION [8]
#        seconds a run, SKUS [1000], ZIPF [none] e.g. 1.1, THREADS [1], LIVEBUYD_FLAGS e.g. "--max-batch-skus 128",
#        OUT [build/bench-open])
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18483}
DURATION=${DURATION:-8}
rate=${RATE:-25000}
runs=${RUNS:-3}
skus=${SKUS:-1000}
out=${OUT:-$root/build/bench-open}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare_load
spread=(--skus "$skus")
[ -n "${ZIPF:-}" ] && spread+=(--zipf "$ZIPF")

# What the window needs at one moment, into $out/NAME.K: livebuyd's metrics, its threads' and mariadbd's CPU ticks.
snapshot() { # name k
    curl -sf "$base/metrics" >"$out/$1.$2.metrics"
    {
        for task in /proc/"$server_pid"/task/*; do
            echo "thread ${task##*/} $(cut -d' ' -f14,15 "$task/stat")"
        done
        echo "mariadbd $(cut -d' ' -f14,15 /proc/"$db_pid"/stat)"
    } >"$out/$1.$2.cpu"
}

start_server
db_pid=$(cat "$work/db/mysqld.pid" 2>/dev/null || pgrep -f "mariadbd.*$work" | head -1)
say "warm-up: h2c, one SKU, 2s (not measured)"
duration=2 catalog warm-up --concurrency 1600 --connections 16 --streams 100 --skus 1
for i in $(seq "$runs"); do
    name=open-$i
    say "run $i: ${spread[*]}, $rate arrivals a second, ${duration}s"
    catalog "$name" "${spread[@]}" --rate "$rate" --connections 16 &
    run_pid=$!
    sleep 3
    snapshot "$name" 0
    sleep 2
    snapshot "$name" 1
    wait "$run_pid"
    python3 - "$out" "$name" "$server_pid" "$(getconf CLK_TCK)" <<'PY'
import json, sys
out, name, loop_tid, hz = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def metrics(k):
    values = {}
    for line in open("%s/%s.%d.metrics" % (out, name, k)):
        if not line.startswith("#") and " " in line:
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values
def cpu(k):
    ticks = {}
    for line in open("%s/%s.%d.cpu" % (out, name, k)):
        words = line.split()
        ticks[" ".join(words[:-2])] = int(words[-2]) + int(words[-1])
    return ticks
m0, m1, c0, c1 = metrics(0), metrics(1), cpu(0), cpu(1)
delta = lambda key: m1.get(key, 0) - m0.get(key, 0)
orders = delta('livebuy_orders_total{outcome="created"}')
txns, batches = delta("livebuy_order_transactions_total"), delta("livebuy_batches_total")
seconds = lambda key: (c1.get(key, 0) - c0.get(key, 0)) / hz
loop = seconds("thread " + loop_tid)
workers = sum(seconds(k) for k in c1 if k.startswith("thread ") and k != "thread " + loop_tid)
us = lambda s: s * 1e6 / orders if orders else 0
r = json.load(open("%s/%s.json" % (out, name)))
rate = r["options"]["rate"]
by_second = " ".join("%.0f" % (s["p99_us"] / 1000.0) for s in r["series"] if s["offered"] >= rate // 2)
print("%s: %.0f orders/s, p50 %.1f ms, p99 %.1f ms (each second's p99: %s ms), check %s" % (
    name, r["throughput_rps"], r["latency_us"]["p50"] / 1000.0, r["latency_us"]["p99"] / 1000.0, by_second,
    "ok" if r["check"] and r["check"]["ok"] else "VIOLATED"))
print("  mid-run 2 s: %.0f order transactions a second, each %.1f SKUs and %.1f orders; CPU per order: mariadbd %.1f us, "
      "livebuyd %.1f us (first thread %.1f, the others %.1f)" % (
      txns / 2, batches / txns if txns else 0, orders / txns if txns else 0, us(seconds("mariadbd")), us(loop + workers),
      us(loop), us(workers)))
PY
done
stop_server
