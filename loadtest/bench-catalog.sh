#!/usr/bin/env bash
# Spread over many SKUs, side by side in one run on this machine (one livebuyd, a durable MariaDB): livebuy-load's
# catalog scenario, closed model, qty-1 direct orders by many buyers on one hot SKU, on 100 and on 1,000 SKUs with
# uniform and Zipf 1.1 popularity, over h2c and over HTTP/1.1; each rate and its ratio to the hot SKU of the same
# protocol; then the open model at 80% of the 1,000-SKU uniform maximum (h2c) for its p99 (and each second's). Every run
# is checked for correctness afterwards (no oversell, nothing lost or doubled, every SKU's counters): a failed check
# fails the benchmark.
# Usage: loadtest/bench-catalog.sh [--quick]   (--quick: 2-second runs instead of DURATION [5]; settings by environment:
#        CONCURRENCY [1600] h2c streams in flight over 16 connections, H1_CONNECTIONS [256] HTTP/1.1 connections,
#        THREADS [1] livebuyd loop threads, OUT [build/bench-catalog])
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18482}
DURATION=${DURATION:-5}
[ "${1:-}" = --quick ] && DURATION=2
concurrency=${CONCURRENCY:-1600}
h1_connections=${H1_CONNECTIONS:-256}
out=${OUT:-$root/build/bench-catalog}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare_load

spreads=("hot:--skus 1" "100u:--skus 100" "100z:--skus 100 --zipf 1.1" "1000u:--skus 1000" "1000z:--skus 1000 --zipf 1.1")
start_server
# Unmeasured: the first run after the start meets a fresh process and database, and the first measured run is the
# hot SKU, the base of every ratio (on a quiet machine it once came out at three quarters of another run's).
say "warm-up: h2c, one SKU, 2s (not measured)"
duration=2 catalog warm-up --concurrency "$concurrency" --connections 16 --streams 100 --skus 1
for proto in h2c h1; do
    if [ "$proto" = h2c ]; then
        model=(--concurrency "$concurrency" --connections 16 --streams 100)
    else
        model=(--http1 --concurrency "$h1_connections" --connections "$h1_connections")
    fi
    for spread in "${spreads[@]}"; do
        name=${spread%%:*}
        say "$proto, ${spread#*:}: closed model, ${duration}s"
        # shellcheck disable=SC2086 # the spread's flags are words
        catalog "$proto-$name" "${model[@]}" ${spread#*:}
    done
done
rate=$(python3 -c 'import json,sys; print(max(100, int(0.8 * json.load(open(sys.argv[1]))["throughput_rps"])))' \
    "$out/h2c-1000u.json")
say "h2c, 1,000 SKUs uniform: open model at $rate/s (80% of its maximum), ${duration}s"
catalog open-1000u --skus 1000 --rate "$rate" --connections 16
say "h2c, 1,000 SKUs Zipf 1.1: open model at $rate/s, ${duration}s"
catalog open-1000z --skus 1000 --zipf 1.1 --rate "$rate" --connections 16
stop_server

python3 - "$out" "$duration" <<'PY'
import json, sys
out, duration = sys.argv[1], sys.argv[2]
def load(name):
    with open("%s/%s.json" % (out, name)) as f:
        return json.load(f)
def ms(us):
    return "%.1f" % (us / 1000.0)
names = [("hot", "hot SKU"), ("100u", "100 SKUs uniform"), ("100z", "100 SKUs Zipf 1.1"), ("1000u", "1,000 SKUs uniform"),
         ("1000z", "1,000 SKUs Zipf 1.1")]
print()
print("%-22s %-9s %10s %8s %9s %7s" % ("orders (%ss each)" % duration, "protocol", "orders/s", "x hot", "p99 ms", "check"))
for proto in ("h2c", "h1"):
    hot = load(proto + "-hot")["throughput_rps"]
    for key, what in names:
        r = load("%s-%s" % (proto, key))
        ok = "" if r["check"] is None else ("ok" if r["check"]["ok"] else "VIOLATED")
        print("%-22s %-9s %10.0f %7.2fx %9s %7s" % (what, "HTTP/1.1" if proto == "h1" else proto, r["throughput_rps"],
              r["throughput_rps"] / hot if hot else 0, ms(r["latency_us"]["p99"]), ok))
for key, what in (("open-1000u", "1,000 uniform, open"), ("open-1000z", "1,000 Zipf, open")):
    r = load(key)
    ok = "ok" if r["check"] and r["check"]["ok"] else "VIOLATED"
    print("%-22s %-9s %10.0f %8s %9s %7s   (arrivals at %d/s: 80%% of the 1,000-SKU uniform maximum; p50 %s ms)"
          % (what, "h2c", r["throughput_rps"], "", ms(r["latency_us"]["p99"]), ok, r["options"]["rate"],
             ms(r["latency_us"]["p50"])))
    # p99 of each whole second of arrivals (not the drain after them): how much of the run's p99 is its start.
    seconds = [s for s in r["series"] if s["offered"] >= r["options"]["rate"] // 2]
    if seconds:
        print("%-22s %-9s %38s   (p99 by second: %s | %s ms)" % ("", "", "", ms(seconds[0]["p99_us"]),
              " ".join(ms(s["p99_us"]) for s in seconds[1:])))
PY
