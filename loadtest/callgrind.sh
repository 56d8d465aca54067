#!/usr/bin/env bash
# Instructions per hot-SKU order, counted by callgrind: the CPU figure that does not depend on what else runs on the
# machine (docs/callgrind.md). For each target process in turn (livebuyd, then mariadbd), on a fresh private MariaDB
# with the benchmark's settings: starts that process under `valgrind --tool=callgrind` (the other one natively), makes
# the benchmark's hot SKU and buyer token, warms up with WARMUP orders, zeroes the counters, sends ORDERS orders with
# h2load (the benchmark's requests: qty 1 on one SKU, one buyer's token, no Idempotency-Key), checks that every one
# was answered 2xx and made one order, dumps the counters and prints instructions per order, split by object.
# Usage: loadtest/callgrind.sh [--target livebuyd|mariadbd|both] [--orders N] [--warmup N] [--no-build]
#        (default: both in turn, 20000 orders after 4000; settings by environment: BUILD_TYPE [RelWithDebInfo],
#        BUILD_DIR [build], CLIENTS [64] h2load connections, STREAMS [100] streams per connection, THREADS [1] loop
#        threads, LIVEBUYD_ARGS more livebuyd flags, OUT [build/callgrind] for the dumps, PORT [a free one])
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
# A free port unless PORT says: helpers may run this at the same time on one machine.
port=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
build_type=${BUILD_TYPE:-RelWithDebInfo}
build_dir=${BUILD_DIR:-build}
read -ra extra <<<"${LIVEBUYD_ARGS:-}"
out=${OUT:-$root/build/callgrind}
target=both
orders=20000
warmup=4000
build=1

# shellcheck source=loadtest/bench-lib.sh
. loadtest/bench-lib.sh

usage() {
    sed -n '8,11s/^# \{0,1\}//p' "$0" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
        --target) [ $# -ge 2 ] || usage; target=$2; shift 2 ;;
        --orders) [ $# -ge 2 ] || usage; orders=$2; shift 2 ;;
        --warmup) [ $# -ge 2 ] || usage; warmup=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) usage ;;
    esac
done
case $target in
    livebuyd | mariadbd) targets=("$target") ;;
    both) targets=(livebuyd mariadbd) ;;
    *) usage ;;
esac
[[ $orders =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ ]] || usage
for tool in valgrind callgrind_control h2load; do
    command -v "$tool" >/dev/null || die "$tool is not installed (Debian: valgrind, nghttp2-client)"
done

if [ "$build" = 1 ]; then
    bash scripts/deps.sh openssl
    say "building $build_type into $build_dir/"
    build_into "$build_dir" -DCMAKE_BUILD_TYPE="$build_type"
fi
[ -x "$build_dir/livebuyd" ] || die "$build_dir/livebuyd was not built"
mkdir -p "$out"
mariadbd_bin=$(command -v mariadbd || echo /usr/sbin/mariadbd)
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
results=()

# valgrind under the process's own pid (it execs in place), one callgrind file per process and dump in $out.
callgrind=(valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p")

# The instructions of one dump by object, most first: "Ir object" lines, then "total Ir". Costs that follow a
# calls= line are inclusive costs of the call and are skipped; every other cost line is the current object's own.
# Names are compressed: "(7) /path" the first time, in an ob= or a cob= line, then "(7)" alone.
by_object() { # callgrind-file
    awk '
        function name(s,    id) {
            if (match(s, /^\([0-9]+\)/)) {
                id = substr(s, 2, RLENGTH - 2)
                s = substr(s, RLENGTH + 1)
                sub(/^ /, "", s)
                if (s == "") return names[id]
                names[id] = s
            }
            return s
        }
        /^positions:/ { npos = NF - 1 }
        /^ob=/ { ob = name(substr($0, 4)); next }
        /^cob=/ { name(substr($0, 5)); next }
        /^calls=/ { skip = 1; next }
        /^[0-9+*-]/ {
            if (skip) { skip = 0; next }
            if (NF > npos) { self[ob] += $(npos + 1); total += $(npos + 1) }
        }
        END {
            for (o in self) printf "%d %s\n", self[o], o
            printf "%d total\n", total
        }' npos=1 "$1" | sort -rn
}

mariadbd_version() { "$mariadbd_bin" --version | sed -E 's/.*Ver ([^ ]+).*/\1/'; }

# A counter of livebuyd's /metrics.
metric() { # name
    curl -sf "$base/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

sql() { # query
    bash scripts/mariadb.sh sql "$work/db" bench -N -e "$1"
}

orders_made() { sql "SELECT COUNT(*) FROM orders"; }

# h2load's orders; fails unless all N were answered 2xx.
send_orders() { # n name
    local n=$1 name=$2 codes
    h2load -n "$n" -c "$clients" -m "$streams" -t 1 "${order_args[@]}" >"$work/$name.txt" 2>&1 || true
    codes=$(grep -E '^status codes:' "$work/$name.txt" || true)
    say "$name: $codes"
    [[ $codes =~ ^status\ codes:\ $n\ 2xx, ]] || {
        cat "$work/$name.txt" >&2
        die "$name: not all $n orders were answered 2xx"
    }
}

# bench_cleanup, a mariadbd under callgrind that never came up killed, and the dumps callgrind wrote at exit removed.
measure_cleanup() {
    local pid
    pid=$(cat "$work/valgrind.pid" 2>/dev/null) || pid=""
    bench_cleanup
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    [ -z "$measured" ] || rm -f "$out/callgrind.out.$measured" "$out/callgrind.out.$measured".*
}

measure() { # target
    local what=$1 pid bin before after made batches requests file total per_order mean_batch
    work=$(mktemp -d /tmp/livebuy-callgrind.XXXXXX)
    measured=""
    trap measure_cleanup EXIT
    # The benchmark's MariaDB (loadtest/bench-lib.sh); created and started natively, then, when it is the one
    # measured, restarted under callgrind through a mariadbd of the same name first in PATH (scripts/mariadb.sh runs
    # "mariadbd"). Under callgrind, InnoDB's start-up with a 2 GiB buffer pool outlasts scripts/mariadb.sh's 30 s:
    # its verdict is ignored and the server waited for here while the wrapper's process lives. Two settings differ
    # under callgrind: InnoDB's io_uring hangs under valgrind 3.19 (a thread waits in io_uring_enter for ever), so
    # --innodb-use-native-aio=0 (InnoDB's own I/O threads; a COMMIT's redo write is synchronous either way); and
    # valgrind cannot reserve the address space of the default innodb_buffer_pool_size_max (8 TiB), so the maximum
    # is the size.
    export LIVEBUY_MARIADB_BUFFER_POOL=${LIVEBUY_MARIADB_BUFFER_POOL:-2G}
    export LIVEBUY_MARIADB_LOG_FILE_SIZE=${LIVEBUY_MARIADB_LOG_FILE_SIZE:-1G}
    bash scripts/mariadb.sh start "$work/db" >/dev/null
    bash scripts/mariadb.sh sql "$work/db" -e "CREATE DATABASE bench"
    if [ "$what" = mariadbd ]; then
        bash scripts/mariadb.sh stop "$work/db" >/dev/null
        mkdir "$work/bin"
        printf '#!/bin/sh\necho $$ >%q\nexec %s "$@" %s\n' "$work/valgrind.pid" \
            "$(printf '%q ' "${callgrind[@]}" "$mariadbd_bin")" \
            "--innodb-use-native-aio=0 --innodb-buffer-pool-size-max=$LIVEBUY_MARIADB_BUFFER_POOL" >"$work/bin/mariadbd"
        chmod +x "$work/bin/mariadbd"
        say "starting mariadbd under callgrind"
        PATH="$work/bin:$PATH" bash scripts/mariadb.sh start "$work/db" >/dev/null 2>&1 || true
        for _ in $(seq 600); do
            bash scripts/mariadb.sh status "$work/db" >/dev/null 2>&1 && break
            kill -0 "$(cat "$work/valgrind.pid")" 2>/dev/null || {
                tail "$work/db/mariadb.log" >&2
                die "mariadbd exited"
            }
            sleep 1
        done
        bash scripts/mariadb.sh status "$work/db" >/dev/null 2>&1 || die "mariadbd did not start under callgrind"
        measured=$(cat "$work/db/mysqld.pid")
    fi
    db="mysql://root@localhost/bench?socket=$work/db/mysqld.sock"
    base="http://127.0.0.1:$port"

    local run=()
    [ "$what" = livebuyd ] && run=("${callgrind[@]}")
    say "starting livebuyd${run:+ under callgrind}"
    "${run[@]}" "$root/$build_dir/livebuyd" --db "$db" --listen "127.0.0.1:$port" --threads "$threads" \
        --admin-token "$bench_admin" --buyer-secret "$bench_secret" --payment-secret "$bench_payment" \
        --max-queue 1000000 --max-buyer-orders 0 --max-connection-orders 0 "${extra[@]}" >"$work/livebuyd.log" 2>&1 &
    server_pid=$!
    [ "$what" = livebuyd ] && measured=$server_pid
    for _ in $(seq 600); do
        curl -sf "$base/healthz" >/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/livebuyd.log" >&2; die "livebuyd exited"; }
        sleep 0.1
    done
    curl -sf "$base/healthz" >/dev/null || { cat "$work/livebuyd.log" >&2; die "livebuyd did not answer"; }
    make_hot_sku
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/livebuyd.log" >&2; die "livebuyd exited (port $port taken?)"; }

    [ "$warmup" -gt 0 ] && send_orders "$warmup" warmup
    pid=$measured
    before=$(orders_made)
    batches=$(metric livebuy_batches_total)
    requests=$(metric livebuy_batch_requests_total)
    rm -f "$out/callgrind.out.$pid".*
    callgrind_control --zero "$pid" >/dev/null 2>&1
    send_orders "$orders" orders
    callgrind_control --dump "$pid" >/dev/null 2>&1
    after=$(orders_made)
    batches=$(($(metric livebuy_batches_total) - batches))
    requests=$(($(metric livebuy_batch_requests_total) - requests))
    made=$((after - before))
    [ "$made" = "$orders" ] || die "$orders orders answered 2xx but $made made"

    file=$(find "$out" -maxdepth 1 -name "callgrind.out.$pid.*" | sort | tail -n 1)
    [ -n "$file" ] || die "no callgrind dump of pid $pid in $out"
    bin=$work/by-object.txt
    by_object "$file" >"$bin"
    total=$(awk '$2 == "total" { print $1 }' "$bin")
    [ "$total" -gt 0 ] || die "no instructions in $file"
    # The dump is kept under a name that says what it is. Calls that began before the counters were zeroed (main's
    # uv_run, the threads' loops) are written with calls=0, and callgrind_annotate 3.19 then counts their whole
    # inclusive cost as the caller's own (main at 84%): the kept copy says calls=1 there.
    sed 's/^calls=0 /calls=1 /' "$file" >"$out/callgrind.$what.$commit.$build_type"
    rm -f "$file"
    file=$out/callgrind.$what.$commit.$build_type

    per_order=$(awk -v t="$total" -v n="$made" 'BEGIN { printf "%.0f", t / n }')
    mean_batch=$(awk -v r="$requests" -v b="$batches" 'BEGIN { printf "%.0f", b ? r / b : 0 }')
    results+=("$(printf '%-10s %8d instructions per order (mean batch %d)' "$what" "$per_order" "$mean_batch")")
    echo
    printf '%s at %s (%s): %d orders in %d batches (mean %d), after %d to warm up\n' "$what" "$commit" \
        "$build_type" "$made" "$batches" "$mean_batch" "$warmup"
    printf '%-40s %12d\n' "$what instructions per order" "$per_order"
    awk -v n="$made" '$2 != "total" {
        o = $2; sub(/.*\//, "", o); sub(/\.so.*/, "", o)
        printf "  %-38s %12.0f\n", o, $1 / n
    }' "$bin" | awk '$2 >= 10'
    if [ "$what" = mariadbd ]; then
        # By thread: the client connections' statements, and the rest (InnoDB's purge, page cleaner and timers).
        callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$file" | awk -v n="$made" -v t="$total" '
            /:handle_one_connection \[/ { gsub(/,/, "", $1); c = $1 }
            END {
                printf "  %-38s %12.0f\n", "(threads: client connections", c / n
                printf "  %-38s %12.0f\n", " background: purge, flushing, timers)", (t - c) / n
            }'
    fi
    echo "  (by function: callgrind_annotate $file)"

    stop_server
    measure_cleanup
    trap - EXIT
}

for t in "${targets[@]}"; do
    measure "$t"
done
echo
echo "at $commit ($build_type; $(valgrind --version), $(h2load --version | head -n 1), mariadbd $(mariadbd_version)):"
printf '  %s\n' "${results[@]}"
