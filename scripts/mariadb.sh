#!/usr/bin/env bash
# A private MariaDB server living in one folder (data, socket, pid file, log), for the demo and the tests.
# Works as root and as any other user; no system configuration is read (--no-defaults everywhere).
# Usage: scripts/mariadb.sh start DIR [--port P] [-- mariadbd options...]
#                                                  create on first use, start in the background, wait until it answers
#        scripts/mariadb.sh stop DIR                clean shutdown (falls back to SIGTERM, then SIGKILL)
#        scripts/mariadb.sh status DIR              exit 0 when the server is up
#        scripts/mariadb.sh sql DIR [args...]       the mariadb client as root on the socket, e.g. sql DIR -e "SELECT 1"
# --port P additionally serves TCP on 127.0.0.1:P (user root, no password). Options after -- go to mariadbd as they are
# (scripts/cluster.sh: the Spider plugin, a server id).
# Sizes by environment: LIVEBUY_MARIADB_BUFFER_POOL [256M], LIVEBUY_MARIADB_LOG_FILE_SIZE [96M]. Durability stays the
# default (innodb_flush_log_at_trx_commit=1: every COMMIT is on disk).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
usage() { sed -n '4,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }

read_cmd_dir "$@"
shift 2

# DIR is taken relative to the caller's working directory; everything below uses absolute paths.
if [ -d "$dir" ]; then
    dir=$(cd "$dir" && pwd -P)
elif [ "$cmd" = stop ] || [ "$cmd" = status ]; then
    say "MariaDB in $dir is not running (no such folder)"
    [ "$cmd" = stop ] && exit 0
    exit 1
else
    die "no such folder: $dir"
fi

data=$dir/data
sock=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
log=$dir/mariadb.log
user=$(id -un)

# A Unix socket path must fit in sun_path (108 bytes with the NUL).
[ ${#sock} -le 107 ] || die "socket path too long for a Unix socket (${#sock} > 107 bytes): $sock; use a shorter DIR"

admin() { mariadb-admin --no-defaults --socket="$sock" --user=root --connect-timeout=2 "$@"; }


# The server's pid when its pid file names a live process, else nothing.
server_pid() {
    local pid
    [ -f "$pidfile" ] || return 1
    pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && alive "$pid" || return 1
    echo "$pid"
}

is_up() {
    server_pid >/dev/null && [ -S "$sock" ] && admin ping >/dev/null 2>&1
}

log_tail() {
    if [ -f "$log" ]; then
        say "last lines of $log:"
        tail -n 25 "$log" >&2
    fi
}

start() {
    local port="" pid extra=()
    while [ $# -gt 0 ]; do
        case $1 in
            --) shift; extra=("$@"); break ;;
            --port) [ $# -ge 2 ] || die "--port needs a value"; port=$2; shift 2 ;;
            --port=*) port=${1#--port=}; shift ;;
            *) die "start: unknown option $1" ;;
        esac
    done
    if [ -n "$port" ] && ! { [[ $port =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; }; then
        die "--port must be 1-65535, not $port"
    fi

    if is_up; then
        local running_port=""
        [ -f "$dir/tcp-port" ] && running_port=$(cat "$dir/tcp-port")
        if [ -n "$port" ] && [ "$port" != "$running_port" ]; then
            say "warning: MariaDB in $dir is already running without TCP port $port; stop it first to change that"
        fi
        say "MariaDB in $dir already running (pid $(server_pid))"
        return 0
    fi
    if pid=$(server_pid); then
        die "a process (pid $pid) holds $pidfile but does not answer on $sock; stop it with: $0 stop $dir"
    fi
    rm -f "$pidfile"

    # First use: build the system tables in a side folder, then move it into place, so an interrupted
    # install never leaves a half-made data folder behind.
    if [ ! -d "$data/mysql" ]; then
        [ ! -e "$data" ] || [ -z "$(ls -A "$data" 2>/dev/null)" ] ||
            die "$data exists but holds no MariaDB system tables; move it away or choose another DIR"
        say "creating a MariaDB data folder in $data"
        rm -rf "$data" "$data.new"
        # mariadb-install-db breaks on paths with spaces and the like: give it a plain path through a symlink.
        local instdir=$dir link="" ok=1
        if [[ $dir =~ [^A-Za-z0-9/._+-] ]]; then
            link=$(mktemp -d /tmp/livebuy-db.XXXXXX)
            ln -s "$dir" "$link/d"
            instdir=$link/d
        fi
        mkdir -p "$dir/tmp"
        TMPDIR=$dir/tmp mariadb-install-db --no-defaults --datadir="$instdir/data.new" --user="$user" \
            --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 || ok=0
        [ -z "$link" ] || rm -rf "$link"
        if [ "$ok" = 0 ]; then
            # Its own errors come before a page of advice: show them, then the end of the log.
            say "mariadb-install-db failed; its errors, then the last lines of $dir/install.log:"
            grep -i -m 10 'error' "$dir/install.log" >&2 || true
            tail -n 12 "$dir/install.log" >&2
            rm -rf "$data.new"
            exit 1
        fi
        mv "$data.new" "$data"
    fi

    local net=(--skip-networking)
    if [ -n "$port" ]; then
        net=(--port="$port" --bind-address=127.0.0.1)
        echo "$port" >"$dir/tcp-port"
    else
        rm -f "$dir/tcp-port"
    fi

    # setsid: the server gets its own session, so a Ctrl-C meant for the caller (livebuyd, ctest) never reaches it.
    # Its temporary files go in the folder too, not the shared /tmp: with several test runs at once on one machine, a
    # server's start failed on "Error on delete of '/tmp/#sql-temptable-...'" (their names are made from the pid).
    : >>"$log"
    mkdir -p "$dir/tmp"
    setsid mariadbd --no-defaults \
        --datadir="$data" --socket="$sock" --pid-file="$pidfile" --log-error="$log" --user="$user" --tmpdir="$dir/tmp" \
        "${net[@]}" \
        --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size="${LIVEBUY_MARIADB_BUFFER_POOL:-256M}" \
        --innodb-log-file-size="${LIVEBUY_MARIADB_LOG_FILE_SIZE:-96M}" \
        --max-connections=500 \
        --table-open-cache=400 \
        --performance-schema=OFF \
        --innodb-adaptive-hash-index=ON \
        "${extra[@]}" \
        </dev/null >>"$log" 2>&1 &
    local launched=$!

    local i
    for ((i = 0; i < 300; i++)); do
        if [ -S "$sock" ] && admin ping >/dev/null 2>&1 && server_pid >/dev/null; then
            say "MariaDB in $dir is up (pid $(server_pid), socket $sock${port:+, tcp 127.0.0.1:$port})"
            return 0
        fi
        if ! alive "$launched" && ! server_pid >/dev/null; then
            say "MariaDB in $dir exited during start-up"
            log_tail
            exit 1
        fi
        sleep 0.1
    done
    say "MariaDB in $dir did not answer within 30 s"
    log_tail
    exit 1
}

stop() {
    [ $# -eq 0 ] || die "stop takes no options"
    local pid
    if ! pid=$(server_pid); then
        say "MariaDB in $dir is not running"
        rm -f "$pidfile"
        return 0
    fi
    admin shutdown >/dev/null 2>&1 || true
    if ! wait_gone "$pid" 30; then
        say "MariaDB (pid $pid) still running after shutdown; sending SIGTERM"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 15; then
            say "MariaDB (pid $pid) still running; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || die "could not stop MariaDB (pid $pid)"
        fi
    fi
    rm -f "$pidfile"
    say "MariaDB in $dir stopped"
}

status() {
    [ $# -eq 0 ] || die "status takes no options"
    if is_up; then
        echo "livebuy: MariaDB in $dir is running (pid $(server_pid), socket $sock)"
        return 0
    fi
    echo "livebuy: MariaDB in $dir is not running"
    return 1
}

sql() {
    [ -S "$sock" ] || die "MariaDB in $dir is not running (no socket $sock); start it with: $0 start $dir"
    exec mariadb --no-defaults --socket="$sock" --user=root --default-character-set=utf8mb4 "$@"
}

case $cmd in
    start) start "$@" ;;
    stop) stop "$@" ;;
    status) status "$@" ;;
    sql) sql "$@" ;;
    *) usage ;;
esac
