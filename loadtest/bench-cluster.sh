#!/usr/bin/env bash
# The sharded deployment against one MariaDB, on this machine (docs/scale-out.md, docs/benchmarks.md):
#   single   one livebuyd on one MariaDB (durable), as scripts/run.sh runs it
#   cluster  scripts/cluster.sh: HAProxy, K livebuyd, a Spider front and N backend MariaDBs (durable)
# Each gets the same two loads from livebuy-load: hot (one SKU, closed model, qty-1 orders) and a many-SKU drop
# (PARALLEL drop runs at once, each on a SKU of its own, so the SKUs fall on every backend; open model, checked).
# For each part it prints the CPU time per order granted (utime + stime from /proc), so that what a part costs can be
# scaled to N machines, and for each database the statements it ran per order (SHOW GLOBAL STATUS: Questions, and of
# them Com_insert; a backend's come from the front, Spider's). One box shares its cores among every part: the figures
# are costs, not a cluster's throughput.
# Usage: loadtest/bench-cluster.sh   (settings by environment: DURATION [8] seconds per run, CONCURRENCY [800],
#        DROP_RATE [800] arrivals/s per drop run, PARALLEL [4] drop runs, BACKENDS [2], SERVERS [2], PORT [18600])
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

duration=${DURATION:-8}
concurrency=${CONCURRENCY:-800}
drop_rate=${DROP_RATE:-800}
parallel=${PARALLEL:-4}
backends=${BACKENDS:-2}
servers=${SERVERS:-2}
port=${PORT:-18600}
admin=livebuy-demo-admin
secret=livebuy-demo-buyer-secret
payment=livebuy-demo-payment-secret
load=build/loadtest/livebuy-load
tick=$(getconf CLK_TCK)

bash scripts/deps.sh openssl mariadb-plugin-spider haproxy python3
say "building Release into build/"
build_into build -DCMAKE_BUILD_TYPE=Release
work=$(mktemp -d /tmp/lbbench.XXXXXX)
single_pid=""
cleanup() {
    [ -z "$single_pid" ] || { kill "$single_pid" 2>/dev/null; wait "$single_pid" 2>/dev/null || true; }
    bash scripts/mariadb.sh stop "$work/single" >/dev/null 2>&1 || true
    [ ! -f "$work/cluster/cluster.conf" ] || bash scripts/cluster.sh stop "$work/cluster" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export LIVEBUY_MARIADB_BUFFER_POOL=${LIVEBUY_MARIADB_BUFFER_POOL:-1G} LIVEBUY_MARIADB_LOG_FILE_SIZE=${LIVEBUY_MARIADB_LOG_FILE_SIZE:-512M}

ticks() { # pid: its CPU so far, in clock ticks (0 when it is gone)
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
pidfile_pid() { tr -dc '0-9' <"$1"; }

statements() { # MariaDB folder: the statements it has run so far and, of them, its INSERTs ("Questions Com_insert")
    bash scripts/mariadb.sh sql "$1" -N -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_insert')" |
        awk '{ v[$1] = $2 } END { print v["Questions"], v["Com_insert"] }'
}

# parts: "name pid ..." pairs of the deployment measured now; databases: "name folder" pairs of its MariaDBs
declare -a part_names part_pids db_names db_dirs
measure_start() {
    local i
    for i in "${!part_pids[@]}"; do start_ticks[i]=$(ticks "${part_pids[i]}"); done
    for i in "${!db_dirs[@]}"; do start_statements[i]=$(statements "${db_dirs[i]}"); done
}
measure_end() { # label orders
    local i used
    for i in "${!part_pids[@]}"; do
        used=$(($(ticks "${part_pids[i]}") - start_ticks[i]))
        awk -v l="$1" -v p="${part_names[i]}" -v u="$used" -v t="$tick" -v n="$2" \
            'BEGIN { printf "bench: %-22s %-14s %8.2f s CPU  %7.1f us per order\n", l, p, u / t, n ? u / t / n * 1e6 : 0 }'
    done
    local before after
    for i in "${!db_dirs[@]}"; do
        read -ra before <<<"${start_statements[i]}"
        read -ra after <<<"$(statements "${db_dirs[i]}")"
        awk -v l="$1" -v p="${db_names[i]}" -v n="$2" -v q=$((after[0] - before[0])) -v ins=$((after[1] - before[1])) \
            'BEGIN { printf "bench: %-22s %-14s %8d statements  %5.2f per order (INSERTs %5.2f)\n", l, p, q, n ? q / n : 0, n ? ins / n : 0 }'
    done
}
declare -a start_ticks start_statements

json_value() { /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

run_loads() { # label url
    local label=$1 url=$2 i orders=0 rps=0 n
    local common=(--url "$url" --admin-token "$admin" --buyer-secret "$secret" --payment-secret "$payment" --quiet)
    # hot: one SKU, closed model
    measure_start
    "$load" "${common[@]}" --scenario hot --concurrency "$concurrency" --connections 16 --streams 100 \
        --duration "$duration" --no-check --json "$work/$label-hot.json" >"$work/$label-hot.txt" 2>&1 ||
        { cat "$work/$label-hot.txt" >&2; die "hot run failed"; }
    orders=$(json_value "$work/$label-hot.json" 'r["status"].get("201", 0)')
    rps=$(json_value "$work/$label-hot.json" 'round(r["status"].get("201", 0) / r["elapsed_s"])')
    echo "bench: $label hot SKU: $orders orders, $rps orders/s, p99 $(json_value "$work/$label-hot.json" 'r["latency_us"]["p99"] / 1000') ms"
    measure_end "$label hot" "$orders"
    # many SKUs: PARALLEL drops at once, each on its own SKU (made one after the other: every backend gets some)
    measure_start
    local pids=()
    for ((i = 1; i <= parallel; i++)); do
        "$load" "${common[@]}" --scenario drop --rate "$drop_rate" --duration "$duration" \
            --buyers $((drop_rate * duration)) --stock $((drop_rate * duration * 3)) --quota $((drop_rate * duration * 3)) \
            --json "$work/$label-drop$i.json" >"$work/$label-drop$i.txt" 2>&1 &
        pids+=($!)
        sleep 0.3
    done
    orders=0 rps=0
    for ((i = 1; i <= parallel; i++)); do
        wait "${pids[i - 1]}" || { cat "$work/$label-drop$i.txt" >&2; die "drop run $i failed (its check included)"; }
        n=$(json_value "$work/$label-drop$i.json" 'r["status"].get("201", 0)')
        orders=$((orders + n))
        rps=$((rps + $(json_value "$work/$label-drop$i.json" 'round(r["status"].get("201", 0) / r["elapsed_s"])')))
    done
    echo "bench: $label $parallel SKUs: $orders orders, $rps orders/s, checks passed"
    measure_end "$label $parallel SKUs" "$orders"
}

# ---- one MariaDB, one livebuyd
bash scripts/mariadb.sh start "$work/single" >/dev/null
bash scripts/mariadb.sh sql "$work/single" -e "CREATE DATABASE livebuy"
build/livebuyd --db "mysql://root@localhost/livebuy?socket=$work/single/mysqld.sock" --listen "127.0.0.1:$port" \
    --admin-token "$admin" --buyer-secret "$secret" --payment-secret "$payment" --max-queue 1000000 \
    --media-dir "$work/media" >"$work/single.log" 2>&1 &
single_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
part_names=(livebuyd mariadbd) part_pids=("$single_pid" "$(pidfile_pid "$work/single/mysqld.pid")")
db_names=(mariadbd) db_dirs=("$work/single")
run_loads single "http://127.0.0.1:$port"
kill "$single_pid" && wait "$single_pid" || true
single_pid=""
bash scripts/mariadb.sh stop "$work/single" >/dev/null

# ---- the cluster
LIVEBUY_MAX_QUEUE=1000000 bash scripts/cluster.sh start "$work/cluster" --backends "$backends" --servers "$servers" \
    --port "$port" >/dev/null 2>&1 || die "scripts/cluster.sh start failed"
part_names=(haproxy front) part_pids=("$(pidfile_pid "$work/cluster/haproxy/haproxy.pid")" "$(pidfile_pid "$work/cluster/front/mysqld.pid")")
for ((j = 1; j <= backends; j++)); do part_names+=("backend b$j"); part_pids+=("$(pidfile_pid "$work/cluster/b$j/mysqld.pid")"); done
db_names=(front) db_dirs=("$work/cluster/front")
for ((j = 1; j <= backends; j++)); do db_names+=("backend b$j"); db_dirs+=("$work/cluster/b$j"); done
for ((j = 1; j <= servers; j++)); do part_names+=("livebuyd $j"); part_pids+=("$(pidfile_pid "$work/cluster/lb$j/pid")"); done
run_loads cluster "http://127.0.0.1:$port"
