#!/usr/bin/env bash
# The side-by-side benchmark, in one run on this machine (cleartext HTTP/2 with prior knowledge, durable MariaDB):
#   GET /healthz with h2load (the HTTP layer's ceiling); POST /v1/orders on one hot SKU with default batching and with
#   --max-batch 1, each with h2load and with livebuy-load (closed model); livebuy-load's drop and mixed scenarios
#   (open model, checked for correctness afterwards). Prints one table with the figures and the ratios, and writes
#   livebuy-load's JSON and HTML plots into OUT. Targets are measured here, not asserted.
# Usage: loadtest/bench.sh   (settings by environment: DURATION [10] seconds per run, CLIENTS [64] h2load connections,
#        STREAMS [100] streams per connection, CONCURRENCY [1600] livebuy-load's closed model, DROP_RATE [80% of the
#        maximum: the rate livebuy-load's closed model reaches with drop's requests] and MIXED_RATE [5000] arrivals/s,
#        THREADS [1] livebuyd loop threads, OUT [build/bench])
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
port=${PORT:-18481}
concurrency=${CONCURRENCY:-1600}
drop_rate=${DROP_RATE:-}
mixed_rate=${MIXED_RATE:-5000}
out=${OUT:-$root/build/bench}

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh
bench_prepare_load

hot=(--scenario hot --concurrency "$concurrency" --connections 16 --streams 100 --duration "$duration" --no-check)

start_server
make_hot_sku
say "GET /healthz, h2load, ${duration}s ($clients connections x $streams streams)"
healthz=$(rate healthz "$base/healthz")
say "GET /healthz, livebuy-load (closed model, $clients connections x $streams streams)"
load_run healthz --scenario healthz --concurrency $((clients * streams)) --connections "$clients" --streams "$streams" \
    --duration "$duration"
say "POST /v1/orders hot SKU, default batching: h2load"
batched=$(rate batched "${order_args[@]}")
say "POST /v1/orders hot SKU, default batching: livebuy-load, $concurrency concurrent"
load_run hot-batched "${hot[@]}"
# drop at 80% of its own maximum rate: what the closed model reaches with the same requests (distinct buyers with
# their own keys, a live item with a per-buyer limit) and stock that does not run out.
if [ -z "$drop_rate" ]; then
    say "drop, closed model ($concurrency concurrent): its maximum rate"
    load_run drop-max --scenario drop --concurrency "$concurrency" --connections 16 --streams 100 --duration "$duration" \
        --buyers $((duration * 100000)) --stock 1000000000 --quota 1000000000 --no-check
    drop_rate=$(python3 -c 'import json,sys; print(max(1000, int(0.8 * json.load(open(sys.argv[1]))["throughput_rps"])))' \
        "$out/drop-max.json")
fi
say "drop: $drop_rate buyers/s for ${duration}s"
load_run drop --scenario drop --rate "$drop_rate" --duration "$duration" --buyers $((drop_rate * duration)) \
    --stock 1000000 --quota $((drop_rate * duration / 2)) --connections 16
say "mixed: $mixed_rate arrivals/s for ${duration}s"
load_run mixed --scenario mixed --rate "$mixed_rate" --duration "$duration" --buyers 20000 --connections 16
stop_server

start_server --max-batch 1
say "POST /v1/orders hot SKU, --max-batch 1: h2load"
single=$(rate single "${order_args[@]}")
say "POST /v1/orders hot SKU, --max-batch 1: livebuy-load"
load_run hot-single "${hot[@]}"
stop_server

python3 - "$out" "$duration" "$healthz" "$batched" "$single" <<'PY'
import json, sys
out, duration, healthz, batched, single = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
def load(name):
    with open("%s/%s.json" % (out, name)) as f:
        return json.load(f)
runs = {n: load(n) for n in ("healthz", "hot-batched", "hot-single", "drop", "mixed")}
drop_rate = runs["drop"]["options"]["rate"]
def ms(us):
    return "%.2f" % (us / 1000.0)
rows = [("GET /healthz", "h2load", healthz, "", "", "")]
hz = runs["healthz"]
rows.append(("GET /healthz", "livebuy-load", hz["throughput_rps"], ms(hz["latency_us"]["p50"]), ms(hz["latency_us"]["p99"]), ""))
rows.append(("orders hot SKU, batching", "h2load", batched, "", "", ""))
rows.append(("orders hot SKU, --max-batch 1", "h2load", single, "", "", ""))
for name, what in (("hot-batched", "orders hot SKU, batching"), ("hot-single", "orders hot SKU, --max-batch 1"),
                   ("drop", "drop (open, %d/s = 80%% max)" % drop_rate), ("mixed", "mixed (open model)")):
    r = runs[name]
    ok = "" if r["check"] is None else ("ok" if r["check"]["ok"] else "VIOLATED")
    rows.append((what, "livebuy-load", r["throughput_rps"], ms(r["latency_us"]["p50"]), ms(r["latency_us"]["p99"]), ok))
print()
print("%-32s %-13s %12s %9s %9s %7s" % ("what (h2c, %ss each)" % duration, "tool", "req/s", "p50 ms", "p99 ms", "check"))
for what, tool, rps, p50, p99, ok in rows:
    print("%-32s %-13s %12.0f %9s %9s %7s" % (what, tool, rps, p50, p99, ok))
hb, hs = runs["hot-batched"]["throughput_rps"], runs["hot-single"]["throughput_rps"]
print("%-32s %-13s %11.1fx" % ("batching / --max-batch 1", "h2load", batched / single if single else 0))
print("%-32s %-13s %11.1fx" % ("batching / --max-batch 1", "livebuy-load", hb / hs if hs else 0))
print("%-32s %-13s %11.2fx" % ("batching / healthz", "h2load", batched / healthz if healthz else 0))
print("%-32s %-13s %12.0f   (its own CPU: %.2f us a request)" % ("livebuy-load one-core capacity", "healthz run",
      hz.get("generator_capacity_rps", 0), 1e6 / hz["generator_capacity_rps"] if hz.get("generator_capacity_rps") else 0))
print("plots: %s/{drop,mixed,hot-batched,hot-single}.html" % out)
PY
