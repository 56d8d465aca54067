#!/usr/bin/env bash
# A sharded livebuy on one machine, every part a process with its own folder under DIR (docs/scale-out.md):
# N backend MariaDBs (the shards), a MariaDB with the Spider engine in front of them, K livebuyd and HAProxy.
# Usage: scripts/cluster.sh start DIR [--backends N] [--servers K] [--port P] [--trap] [-- livebuyd flags...]
#        scripts/cluster.sh stop DIR              HAProxy, then each livebuyd drained and stopped, then the databases
#        scripts/cluster.sh status DIR            each part, up or not (exit 0 when all are up)
#        scripts/cluster.sh migrate DIR           sql/ onto every backend and the front (livebuyd stopped first)
#        scripts/cluster.sh drain DIR I           take livebuyd I out of HAProxy, let its requests finish, stop it
# start makes what is missing and starts what is not running: after a backend or a livebuyd went down, start brings
# it back. The first start fixes N (2), K (3) and the ports: HAProxy on P (8090), livebuyd I on P+I, the front on
# P+20 and backend J on P+20+J. --trap runs the front with Spider's internal XA and every backend reached as 127.0.0.1,
# where a transaction that touches two backends cannot commit (error 12606): the tests' proof that none does.
# livebuyd gets LIVEBUY_* from the environment and the flags after --; secrets default to the demo's (scripts/run.sh).
# LIVEBUY_CLUSTER_BUILD picks the build folder (build/, made as Release when livebuyd is not there).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

usage() { sed -n '4,8s/^# \{0,1\}//p' "$0" >&2; exit 2; }
read_cmd_dir "$@"
shift 2
[ -d "$dir" ] || die "no cluster in $dir (no such folder)"
dir=$(cd "$dir" && pwd -P)
conf=$dir/cluster.conf
db_name=livebuy
build=${LIVEBUY_CLUSTER_BUILD:-$root/build}
slots=16

pid_of() { # pidfile: the pid when it names a live process
    local pid
    [ -f "$1" ] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

load_conf() {
    [ -f "$conf" ] || die "no cluster in $dir (no cluster.conf): scripts/cluster.sh start $dir"
    # shellcheck source=/dev/null
    . "$conf"
}

backend_dir() { echo "$dir/b$1"; }
server_dir() { echo "$dir/lb$1"; }
front_sock() { echo "$dir/front/mysqld.sock"; }
front_url() { echo "mysql://root@localhost/$db_name?socket=$(front_sock)"; }
backend_url() { echo "mysql://root@localhost/$db_name?socket=$(backend_dir "$1")/mysqld.sock"; }
fsql() { "$root/scripts/mariadb.sh" sql "$dir/front" "$@"; }

# The slot map: slot S (sku_id MOD 16) lives on backend b((S MOD N) + 1), unless DIR/slots names another (one
# server name per line, in slot order; docs/scale-out.md, moving SKUs).
slot_map() {
    local s list=()
    if [ -f "$dir/slots" ]; then
        mapfile -t list < <(grep -v '^#' "$dir/slots" | awk 'NF { print $1 }')
        [ ${#list[@]} -eq $slots ] || die "$dir/slots must name $slots servers, one per line"
    else
        for ((s = 0; s < slots; s++)); do list+=("b$((s % backends + 1))"); done
    fi
    local IFS=,
    echo "${list[*]}"
}

start_databases() {
    local j extra=(--server-id=$((100)) --plugin-load-add=ha_spider.so
        # A backend that is down answers its SKUs' statements with an error within seconds, not after Spider's
        # default 600 s read time-out; the front's own connections stay the ones livebuyd opened.
        --loose-spider-connect-timeout=2 --loose-spider-net-read-timeout=10 --loose-spider-net-write-timeout=10
        --loose-spider-connect-retry-count=0
        # Ids of Spider tables' AUTO_INCREMENT columns come from the front's counter: no read of every backend's
        # highest id inside the inserting transaction (mode 0 locks the last row of each backend).
        --loose-spider-auto-increment-mode=1
        # An INSERT IGNORE ... SELECT (the buyers' index's copy) goes to the backend as multi-row INSERT IGNOREs that
        # the backend dedups, not one INSERT per row checked on the front first (3 statements for 3,084 rows, not 3,084).
        --loose-spider-direct-dup-insert=1)
    [ "$trap" = 1 ] && extra+=(--loose-spider-internal-xa=1)
    for ((j = 1; j <= backends; j++)); do
        "$root/scripts/mariadb.sh" start "$(backend_dir "$j")" --port $((port + 20 + j)) -- --server-id=$((100 + j))
        "$root/scripts/mariadb.sh" sql "$(backend_dir "$j")" -e \
            "CREATE DATABASE IF NOT EXISTS \`$db_name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    done
    "$root/scripts/mariadb.sh" start "$dir/front" --port $((port + 20)) -- "${extra[@]}"
    fsql -e "CREATE DATABASE IF NOT EXISTS \`$db_name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    # Each backend as a Spider server. By TCP: the same statements serve backends on other machines (change HOST).
    # Made once: a CREATE OR REPLACE SERVER while livebuyd runs waits for the Spider tables in use (a restart of a
    # backend took 8 s instead of 2).
    for ((j = 1; j <= backends; j++)); do
        [ "$(fsql -N -e "SELECT COUNT(*) FROM mysql.servers WHERE Server_name = 'b$j' AND Host = '127.0.0.1'
                          AND Port = $((port + 20 + j)) AND Db = '$db_name'")" = 1 ] && continue
        fsql -e "CREATE OR REPLACE SERVER b$j FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1', PORT $((port + 20 + j)),
                 DATABASE '$db_name', USER 'root', PASSWORD '')"
    done
}

migrate() {
    local j
    for ((j = 1; j <= backends; j++)); do
        LIVEBUY_DB=$(backend_url "$j") "$build/livebuyd" --migrate-only >"$dir/migrate.log" 2>&1 ||
            { cat "$dir/migrate.log" >&2; die "migrating backend b$j failed"; }
    done
    /usr/bin/python3 "$root/scripts/cluster_schema.py" open --socket "$(front_sock)" --db "$db_name"
    LIVEBUY_DB=$(front_url) "$build/livebuyd" --migrate-only >"$dir/migrate.log" 2>&1 ||
        { cat "$dir/migrate.log" >&2; die "migrating the front failed"; }
    /usr/bin/python3 "$root/scripts/cluster_schema.py" close --socket "$(front_sock)" --db "$db_name" --slots "$(slot_map)"
    say "cluster in $dir: sql/ applied to $backends backends and the Spider front"
}

start_server() { # I
    local i=$1 sdir pid
    sdir=$(server_dir "$i")
    mkdir -p "$sdir"
    if pid=$(pid_of "$sdir/pid"); then
        return 0
    fi
    # setsid: a Ctrl-C meant for the caller does not reach it. The photos' folder is shared, as on several machines
    # a network folder would be.
    (
        export LIVEBUY_DB LIVEBUY_LISTEN LIVEBUY_MEDIA_DIR LIVEBUY_SHARDS
        LIVEBUY_DB=$(front_url)
        # SKUs share a transaction only within a slot: a slot is on one backend whatever the slot map says.
        LIVEBUY_SHARDS=$slots
        LIVEBUY_LISTEN=127.0.0.1:$((port + i))
        LIVEBUY_MEDIA_DIR=$dir/media
        export LIVEBUY_ADMIN_TOKEN=${LIVEBUY_ADMIN_TOKEN:-livebuy-demo-admin}
        export LIVEBUY_BUYER_SECRET=${LIVEBUY_BUYER_SECRET:-livebuy-demo-buyer-secret}
        export LIVEBUY_PAYMENT_SECRET=${LIVEBUY_PAYMENT_SECRET:-livebuy-demo-payment-secret}
        export LIVEBUY_SHIPPING_SECRET=${LIVEBUY_SHIPPING_SECRET:-livebuy-demo-shipping-secret}
        unset LIVEBUY_MIGRATE_ONLY
        exec setsid "$build/livebuyd" "${server_args[@]}" </dev/null >>"$sdir/livebuyd.log" 2>&1
    ) &
    echo $! >"$sdir/pid"
    local n
    for ((n = 0; n < 100; n++)); do
        curl -fs -o /dev/null "http://127.0.0.1:$((port + i))/readyz" && return 0
        alive "$!" || break
        sleep 0.1
    done
    tail -n 20 "$sdir/livebuyd.log" >&2
    die "livebuyd $i did not become ready on 127.0.0.1:$((port + i))"
}

start_haproxy() {
    mkdir -p "$dir/haproxy"
    local i servers=""
    for ((i = 1; i <= servers_n; i++)); do
        servers+="    server lb$i 127.0.0.1:$((port + i))"$'\n'
    done
    # The template's @NAMES@ filled in; the server lines go in through a file (they hold newlines).
    printf '%s' "$servers" >"$dir/haproxy/servers"
    sed -e "s|@DIR@|$dir|g" -e "s|@LISTEN@|127.0.0.1:$port|" \
        -e "/@SERVERS@/{r $dir/haproxy/servers" -e 'd}' \
        "$root/packaging/haproxy/cluster.cfg" >"$dir/haproxy/haproxy.cfg"
    pid_of "$dir/haproxy/haproxy.pid" >/dev/null && return 0
    haproxy -c -q -f "$dir/haproxy/haproxy.cfg" || die "haproxy refuses $dir/haproxy/haproxy.cfg"
    haproxy -f "$dir/haproxy/haproxy.cfg" 2>>"$dir/haproxy/haproxy.log" || die "haproxy did not start (see $dir/haproxy/haproxy.log)"
}

haproxy_cmd() { # runtime API command
    /usr/bin/python3 - "$dir/haproxy/admin.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
EOF
}

drain() { # I: no new requests from HAProxy, the ones it has finish (up to 10 s), then SIGTERM
    local i=$1 pid n cur
    pid=$(pid_of "$(server_dir "$i")/pid") || { say "livebuyd $i is not running"; return 0; }
    if pid_of "$dir/haproxy/haproxy.pid" >/dev/null; then
        haproxy_cmd "set server livebuyd/lb$i state drain" >/dev/null
        for ((n = 0; n < 100; n++)); do
            cur=$(haproxy_cmd "show stat" | awk -F, -v s="lb$i" '$1 == "livebuyd" && $2 == s { print $5 }')
            [ "${cur:-0}" = 0 ] && break
            sleep 0.1
        done
    fi
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 15 || { say "livebuyd $i (pid $pid) still running; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    rm -f "$(server_dir "$i")/pid"
    # Back in rotation once it runs again (its health checks bring it up).
    pid_of "$dir/haproxy/haproxy.pid" >/dev/null && haproxy_cmd "set server livebuyd/lb$i state ready" >/dev/null
    say "livebuyd $i stopped"
}

case $cmd in
start)
    backends=2 servers_n=3 port=8090 trap=0 server_args=()
    [ -f "$conf" ] && load_conf
    fresh=1
    [ -f "$conf" ] && fresh=0
    while [ $# -gt 0 ]; do
        case $1 in
            --backends) backends=$2; shift 2 ;;
            --servers) servers_n=$2; shift 2 ;;
            --port) port=$2; shift 2 ;;
            --trap) trap=1; shift ;;
            --) shift; server_args=("$@"); break ;;
            *) die "start: unknown option $1" ;;
        esac
    done
    [[ $backends =~ ^[1-9][0-9]?$ ]] && [ "$backends" -le $slots ] || die "--backends must be 1-$slots"
    [[ $servers_n =~ ^[1-9][0-9]?$ ]] || die "--servers must be 1-99"
    [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65000 ] || die "--port must be 1024-65000"
    if [ "$fresh" = 1 ]; then
        printf 'backends=%s\nservers_n=%s\nport=%s\ntrap=%s\n' "$backends" "$servers_n" "$port" "$trap" >"$conf"
        : >"$dir/livebuyd.args"
        [ ${#server_args[@]} -eq 0 ] || printf '%q ' "${server_args[@]}" >"$dir/livebuyd.args"
    else
        eval "server_args=($(cat "$dir/livebuyd.args" 2>/dev/null))"
    fi
    [ "$fresh" = 0 ] || bash "$root/scripts/deps.sh" mariadb-plugin-spider haproxy python3
    if [ ! -x "$build/livebuyd" ]; then
        say "building Release into $build/"
        (cd "$root" && build_into "$build" -DCMAKE_BUILD_TYPE=Release)
    fi
    start_databases
    [ -f "$dir/migrated" ] || { migrate && touch "$dir/migrated"; }
    for ((i = 1; i <= servers_n; i++)); do start_server "$i"; done
    start_haproxy
    # Started means HAProxy sends to every livebuyd: its checks bring a server up after two good answers (2 s).
    for ((n = 0; n < 100; n++)); do
        up=$(haproxy_cmd "show stat" | awk -F, '$1 == "livebuyd" && $2 ~ /^lb/ && $18 == "UP"' | wc -l)
        [ "$up" -eq "$servers_n" ] && break
        sleep 0.1
    done
    [ "$up" -eq "$servers_n" ] || say "warning: HAProxy sees $up of $servers_n livebuyd up after 10 s"
    say "cluster in $dir is up: http://127.0.0.1:$port (HTTP/1.1 and h2c), $servers_n livebuyd, $backends backends"
    ;;
stop)
    load_conf
    for ((i = 1; i <= servers_n; i++)); do drain "$i"; done
    if pid=$(pid_of "$dir/haproxy/haproxy.pid"); then
        kill -TERM "$pid"
        wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    fi
    "$root/scripts/mariadb.sh" stop "$dir/front"
    for ((j = 1; j <= backends; j++)); do "$root/scripts/mariadb.sh" stop "$(backend_dir "$j")"; done
    ;;
status)
    load_conf
    ok=0
    for ((j = 1; j <= backends; j++)); do "$root/scripts/mariadb.sh" status "$(backend_dir "$j")" || ok=1; done
    "$root/scripts/mariadb.sh" status "$dir/front" || ok=1
    for ((i = 1; i <= servers_n; i++)); do
        if pid=$(pid_of "$(server_dir "$i")/pid"); then
            echo "livebuy: livebuyd $i is running (pid $pid, 127.0.0.1:$((port + i)))"
        else
            echo "livebuy: livebuyd $i is not running"
            ok=1
        fi
    done
    if pid=$(pid_of "$dir/haproxy/haproxy.pid"); then
        echo "livebuy: HAProxy is running (pid $pid, http://127.0.0.1:$port)"
        haproxy_cmd "show stat" | awk -F, '$1 == "livebuyd" && $2 ~ /^lb/ { printf "livebuy:   %s %s (%s requests now)\n", $2, $18, $5 }'
    else
        echo "livebuy: HAProxy is not running"
        ok=1
    fi
    exit $ok
    ;;
migrate)
    load_conf
    for ((i = 1; i <= servers_n; i++)); do drain "$i"; done
    migrate
    ;;
drain)
    load_conf
    [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$servers_n" ] || die "drain: which livebuyd (1-$servers_n)?"
    drain "$1"
    ;;
*) usage ;;
esac
