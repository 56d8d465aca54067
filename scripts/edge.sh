#!/usr/bin/env bash
# The public edge (docs/edge.md): HAProxy 2.6 ending TLS and HTTP/2 in front of running livebuyd processes, with the
# header, stream, rate and time limits of edge/haproxy.cfg. Installs Debian's haproxy when it is missing.
# Usage: scripts/edge.sh start DIR [--backend HOST:PORT]... [--with-livebuyd]
#        scripts/edge.sh stop DIR       stops the edge (and the livebuyd and MariaDB it started)
#        scripts/edge.sh status DIR     exit 0 when the edge runs; prints each backend's health
# DIR holds the rendered haproxy.cfg, its log, pid and stats socket (and the certificate it made). --backend, given
# once per livebuyd, names the processes behind it (default: LIVEBUY_EDGE_BACKENDS, else 127.0.0.1:8080).
# --with-livebuyd also starts one: a Release build, a private MariaDB in DIR/mariadb and livebuyd on the (first)
# backend address, with scripts/run.sh's demo secrets unless LIVEBUY_* settings say otherwise.
# Settings by environment [defaults]: LIVEBUY_EDGE_LISTEN [127.0.0.1:8443], LIVEBUY_EDGE_CERT [DIR/edge.pem, a
#   self-signed certificate for localhost made at start when missing; a PEM with the chain and the key],
#   LIVEBUY_EDGE_PROTO [h1: HTTP/1.1 to livebuyd; h2: h2c], LIVEBUY_EDGE_REQ_RATE [1000 requests per address in 10 s],
#   LIVEBUY_EDGE_CONN_RATE [200 connections opened per address in 10 s], LIVEBUY_EDGE_CONN_CUR [200 open per address],
#   LIVEBUY_EDGE_MAXCONN [20000, or half the file limit], LIVEBUY_EDGE_SERVER_MAXCONN [256 requests at once per livebuyd],
#   LIVEBUY_EDGE_LOG [err: HAProxy's log level; notice logs every refused request].
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

usage() {
    sed -n '4,7s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)

backends=()
with_livebuyd=0
while [ $# -gt 0 ]; do
    case $1 in
        --backend) [ $# -ge 2 ] || usage; backends+=("$2"); shift 2 ;;
        --backend=*) backends+=("${1#*=}"); shift ;;
        --with-livebuyd) with_livebuyd=1; shift ;;
        *) usage ;;
    esac
done
if [ ${#backends[@]} -eq 0 ]; then
    read -r -a backends <<<"${LIVEBUY_EDGE_BACKENDS:-127.0.0.1:8080}"
fi

listen=${LIVEBUY_EDGE_LISTEN:-127.0.0.1:8443}
edge_url="https://$listen"

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$dir/$1.pid" 2>/dev/null || true; }

# Stops the process whose pid file is DIR/NAME.pid (TERM, then KILL after 10 s) and removes the file.
stop_pid() { # name
    local pid
    pid=$(pid_of "$1")
    if alive "$pid"; then
        kill -TERM "$pid"
        for _ in $(seq 100); do
            alive "$pid" || break
            sleep 0.1
        done
        alive "$pid" && kill -KILL "$pid"
    fi
    rm -f "$dir/$1.pid"
}

# Waits until URL answers (any HTTP status) or the process PID has exited: 0 when it answered.
wait_for_url() { # url pid seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        curl -ks -o /dev/null --max-time 1 "$1" && return 0
        alive "$2" || return 1
        sleep 0.1
    done
    return 1
}

# Connections at once: 20,000, or fewer when the file limit does not allow two descriptors each (client and server).
default_maxconn() {
    local hard
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] && hard=1048576
    hard=$(((hard - 256) / 2))
    echo $((hard < 20000 ? hard : 20000))
}

# Writes the configuration: edge/haproxy.cfg with its @NAME@ settings filled in and a server line per backend.
render() {
    local servers="" i=1 b
    for b in "${backends[@]}"; do
        [[ $b =~ ^[^[:space:]]+:[0-9]+$ ]] || die "--backend $b is not HOST:PORT"
        servers+="    server livebuyd$i $b"$'\n'
        i=$((i + 1))
    done
    local proto
    case ${LIVEBUY_EDGE_PROTO:-h1} in
        h1) proto="" ;;
        h2) proto="proto h2" ;;
        *) die "LIVEBUY_EDGE_PROTO must be h1 or h2" ;;
    esac
    local text
    text=$(<"$root/edge/haproxy.cfg")
    text=${text//@SERVERS@/${servers%$'\n'}}
    text=${text//@PROTO@/$proto}
    text=${text//@DIR@/$dir}
    text=${text//@EDGE_DIR@/$root/edge}
    text=${text//@LISTEN@/$listen}
    text=${text//@CERT@/$cert}
    text=${text//@MAXCONN@/${LIVEBUY_EDGE_MAXCONN:-$(default_maxconn)}}
    text=${text//@SERVER_MAXCONN@/${LIVEBUY_EDGE_SERVER_MAXCONN:-256}}
    text=${text//@REQ_RATE@/${LIVEBUY_EDGE_REQ_RATE:-1000}}
    text=${text//@CONN_RATE@/${LIVEBUY_EDGE_CONN_RATE:-200}}
    text=${text//@CONN_CUR@/${LIVEBUY_EDGE_CONN_CUR:-200}}
    text=${text//@LOGLEVEL@/${LIVEBUY_EDGE_LOG:-err}}
    printf '%s\n' "$text" >"$dir/haproxy.cfg"
}

# A Release livebuyd on the first backend address, on a private MariaDB in DIR/mariadb (database livebuy).
start_livebuyd() {
    local addr=${backends[0]}
    if alive "$(pid_of livebuyd)"; then
        say "livebuyd already runs (pid $(pid_of livebuyd))"
        return
    fi
    say "building Release into build/"
    (cd "$root" && build_into build -DCMAKE_BUILD_TYPE=Release)
    bash "$root/scripts/mariadb.sh" start "$dir/mariadb" >/dev/null
    bash "$root/scripts/mariadb.sh" sql "$dir/mariadb" -e \
        "CREATE DATABASE IF NOT EXISTS livebuy CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    export LIVEBUY_DB=${LIVEBUY_DB:-mysql://root@localhost/livebuy?socket=$dir/mariadb/mysqld.sock}
    export LIVEBUY_LISTEN=$addr
    export LIVEBUY_ADMIN_TOKEN=${LIVEBUY_ADMIN_TOKEN:-livebuy-demo-admin}
    export LIVEBUY_BUYER_SECRET=${LIVEBUY_BUYER_SECRET:-livebuy-demo-buyer-secret}
    export LIVEBUY_PAYMENT_SECRET=${LIVEBUY_PAYMENT_SECRET:-livebuy-demo-payment-secret}
    export LIVEBUY_MEDIA_DIR=${LIVEBUY_MEDIA_DIR:-$dir/media}
    nohup "$root/build/livebuyd" >"$dir/livebuyd.log" 2>&1 </dev/null &
    echo $! >"$dir/livebuyd.pid"
    wait_for_url "http://$addr/healthz" "$!" 20 || die "livebuyd did not start; its log: $dir/livebuyd.log"
    say "livebuyd runs on http://$addr (pid $(pid_of livebuyd), log $dir/livebuyd.log)"
}

start() {
    bash "$root/scripts/deps.sh" haproxy openssl
    if alive "$(pid_of haproxy)"; then
        say "the edge already runs (pid $(pid_of haproxy)); stop it first"
        exit 1
    fi
    [ "$with_livebuyd" = 1 ] && start_livebuyd
    cert=${LIVEBUY_EDGE_CERT:-$dir/edge.pem}
    if [ ! -s "$cert" ]; then
        [ -z "${LIVEBUY_EDGE_CERT:-}" ] || die "LIVEBUY_EDGE_CERT=$cert: no such file"
        quietly "making a self-signed certificate" openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
            -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
            -keyout "$dir/edge.key" -out "$dir/edge.crt"
        cat "$dir/edge.crt" "$dir/edge.key" >"$cert"
        rm -f "$dir/edge.key"
        chmod 600 "$cert"
        say "made a self-signed certificate: $cert (set LIVEBUY_EDGE_CERT for a real one)"
    fi
    render
    quietly "haproxy -c (the configuration in $dir/haproxy.cfg)" haproxy -c -f "$dir/haproxy.cfg"
    # In the foreground of its own session, so that its log goes to a file and it outlives this script.
    nohup setsid haproxy -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1 </dev/null &
    echo $! >"$dir/haproxy.pid"
    wait_for_url "$edge_url/healthz" "$!" 10 || die "HAProxy did not start; its log: $dir/haproxy.log"
    say "the edge runs on $edge_url (pid $(pid_of haproxy)) in front of ${backends[*]} (${LIVEBUY_EDGE_PROTO:-h1})"
}

status() {
    local pid
    pid=$(pid_of haproxy)
    if ! alive "$pid"; then
        say "the edge in $dir does not run"
        exit 1
    fi
    say "the edge runs (pid $pid, $dir/haproxy.cfg)"
    # Each backend's state as HAProxy's health checks of /readyz see it.
    python3 - "$dir/haproxy.sock" <<'PY' || true
import csv, io, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
for row in csv.DictReader(io.StringIO(data.decode().lstrip("# "))):
    if row["svname"] not in ("FRONTEND", "BACKEND"):
        print("  %s %s: %s (last check: %s)" % (row["pxname"], row["svname"], row["status"], row["check_status"]))
PY
    alive "$(pid_of livebuyd)" && say "livebuyd it started runs (pid $(pid_of livebuyd))"
    return 0
}

case $cmd in
    start) start ;;
    stop)
        stop_pid haproxy
        if [ -f "$dir/livebuyd.pid" ]; then
            stop_pid livebuyd
            bash "$root/scripts/mariadb.sh" stop "$dir/mariadb" >/dev/null 2>&1 || true
        fi
        say "the edge in $dir is stopped"
        ;;
    status) status ;;
    *) usage ;;
esac
