# Shared by loadtest/bench-orders.sh, loadtest/bench.sh and loadtest/bench-catalog.sh (sourced, not run): a Release
# build, a throwaway durable MariaDB, livebuyd started and stopped on it, a hot SKU and a buyer token, h2load's request
# rate and livebuy-load's runs.
# The caller sets root and port first. Settings by environment: DURATION [10] seconds per run, CLIENTS [64] h2load
# connections, STREAMS [100] streams per connection, THREADS [1] livebuyd loop threads, H2LOAD_THREADS [1].

# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

duration=${DURATION:-10}
clients=${CLIENTS:-64}
streams=${STREAMS:-100}
threads=${THREADS:-1}
h2load_threads=${H2LOAD_THREADS:-1}

bench_admin=bench-admin-token-0123456789
bench_secret=bench-buyer-secret-0123456789
bench_payment=bench-payment-secret-0123456789
server_pid=""

bench_cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    bash "$root/scripts/mariadb.sh" stop "$work/db" >/dev/null 2>&1 || true
    rm -rf "$work"
}

# Builds Release into build/, starts the MariaDB in a temporary $work and creates the database "bench".
bench_prepare() {
    bash "$root/scripts/deps.sh" openssl
    say "building Release into build/"
    (cd "$root" && build_into build -DCMAKE_BUILD_TYPE=Release)
    work=$(mktemp -d /tmp/livebuy-bench.XXXXXX)
    trap bench_cleanup EXIT
    # The runs write over a million orders: more than the test-sized 256 MiB buffer pool holds, and a `drop` run late in
    # bench.sh was then slow (p99 47-55 ms against 7-9 ms with 2 GiB). A production MariaDB sizes it to its RAM.
    # A 10-second hot-SKU run writes some 700 MB of redo: with the 96 MiB redo log of the tests, checkpoints kept
    # flushing pages during it (mariadbd per order: 2.34-2.41 us with 96 MiB, 2.20-2.26 us with 1 GiB).
    # LIVEBUY_MARIADB_OPTIONS: more mariadbd options (e.g. "--performance-schema=ON" to see where its time goes).
    # shellcheck disable=SC2086 # a list of words
    LIVEBUY_MARIADB_BUFFER_POOL=${LIVEBUY_MARIADB_BUFFER_POOL:-2G} LIVEBUY_MARIADB_LOG_FILE_SIZE=${LIVEBUY_MARIADB_LOG_FILE_SIZE:-1G} \
        bash "$root/scripts/mariadb.sh" start "$work/db" -- ${LIVEBUY_MARIADB_OPTIONS:-} >/dev/null
    bash "$root/scripts/mariadb.sh" sql "$work/db" -e "CREATE DATABASE bench"
    db="mysql://root@localhost/bench?socket=$work/db/mysqld.sock"
    base="http://127.0.0.1:$port"
}

# bench_prepare, then the folder $out (the caller sets it) and livebuy-load ($load), which load_run uses.
bench_prepare_load() {
    bench_prepare
    mkdir -p "$out"
    load=build/loadtest/livebuy-load
    [ -x "$load" ] || die "$load was not built"
}

# The hot-SKU runs send every order with one buyer token from one client: the per-client caps
# (--max-buyer-orders, --max-connection-orders) are off, or they would measure 429s.
# LIVEBUYD_FLAGS: more flags for every run (e.g. "--access-log off", to measure what the access log costs).
start_server() { # extra livebuyd flags...
    # shellcheck disable=SC2086 # LIVEBUYD_FLAGS is a list of words
    "$root/build/livebuyd" --db "$db" --listen "127.0.0.1:$port" --threads "$threads" --admin-token "$bench_admin" \
        --buyer-secret "$bench_secret" --payment-secret "$bench_payment" --max-queue 1000000 \
        --max-buyer-orders 0 --max-connection-orders 0 ${LIVEBUYD_FLAGS:-} "$@" >"$work/livebuyd.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -sf "$base/healthz" >/dev/null && return 0
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

# A co-op with one SKU of a billion units ($sku), and h2load's arguments for qty-1 orders on it by one buyer ($order_args).
make_hot_sku() {
    local merchant expiry sig token
    merchant=$(curl -sf -H "Authorization: Bearer $bench_admin" -H 'Content-Type: application/json' \
        -d '{"name":"bench co-op","kind":"coop"}' "$base/v1/merchants" | sed -E 's/.*"token":"([^"]+)".*/\1/')
    sku=$(curl -sf -H "Authorization: Bearer $merchant" -H 'Content-Type: application/json' \
        -d '{"title":"武乡小米","unit":"袋","skus":[{"name":"2.5kg","price_cents":3980,"stock":1000000000,"weight_grams":2500}]}' \
        "$base/v1/products" | sed -E 's/.*"skus":\[\{"id":([0-9]+).*/\1/')
    expiry=$(($(date +%s) + 86400))
    sig=$(printf 'b1.1001.%s' "$expiry" | openssl dgst -sha256 -hmac "$bench_secret" | sed 's/.*= //')
    token="b1.1001.$expiry.$sig"
    printf '{"sku_id":%s,"qty":1,"ship_to":{"name":"王芳","phone":"13800000000","address":"山西省长治市武乡县"}}' "$sku" >"$work/order.json"
    order_args=(-d "$work/order.json" -H 'content-type: application/json' -H "authorization: Bearer $token" "$base/v1/orders")
}

# Runs livebuy-load (its JSON and plot into $out/NAME.*, its output into $work/NAME.txt); a failed correctness check or a
# status a sale does not explain (livebuy-load exit 3: a 5xx, a 401) fails the benchmark. The caller sets load and out.
load_run() { # name livebuy-load-args...
    local name=$1 status=0
    shift
    "$load" --url "$base" --admin-token "$bench_admin" --buyer-secret "$bench_secret" --payment-secret "$bench_payment" \
        --quiet --json "$out/$name.json" --plot "$out/$name.html" "$@" >"$work/$name.txt" 2>&1 || status=$?
    grep -E '^(status|latency)|check (ok|FAILED)' "$work/$name.txt" | sed "s/^/bench: $name /" >&2
    if [ "$status" -ne 0 ]; then
        cat "$work/$name.txt" >&2
        die "livebuy-load $name failed (exit $status)"
    fi
}

# The catalog scenario with qty-1 direct orders only: what differs between the runs is the spread.
catalog() { # name livebuy-load-args...   (bench-catalog.sh, bench-open.sh)
    local name=$1
    shift
    load_run "$name" --scenario catalog --duration "$duration" --buyers 100000 --limit 1 --live-share 0 --join-share 0 \
        --pay-share 0 --cancel-share 0 --dup-share 0 --cleanup "$@"
}
