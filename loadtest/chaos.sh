#!/usr/bin/env bash
# The chaos run of issue #18 (docs/chaos.md): livebuyd killed with SIGKILL and restarted, mariadbd killed with SIGKILL
# and restarted, mariadbd frozen with SIGSTOP and thawed, each in the middle of a livebuy-load run (drop and mixed in
# turn, or the --scenarios given; catalog spreads its orders over 1,000 SKUs), whose correctness check after each run
# must find nothing oversold, lost or doubled. Prints a line per event and a summary: kills survived, orders checked,
# violations by kind, time to answer again (max and median).
# Usage: loadtest/chaos.sh [--livebuyd-kills 20] [--mariadb-kills 5] [--stops 1] [--stop-seconds 8] [--run-seconds 6]
#                          [--rate 1000] [--scenarios drop,mixed]
# Builds Release into build/ and uses build/livebuyd and build/loadtest/livebuy-load, unless LIVEBUYD and LIVEBUY_LOAD
# name the binaries (the test command's short form passes its sanitizer build). Its MariaDB and logs are in a
# temporary folder, removed at the end unless LIVEBUY_CHAOS_KEEP=1. Exit status 0 when every check held.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

livebuyd_kills=20 mariadb_kills=5 stops=1 stop_seconds=8 run_seconds=6 rate=1000 scenarios=drop,mixed
while [ $# -gt 0 ]; do
    case $1 in
        --livebuyd-kills) livebuyd_kills=$2 ;;
        --mariadb-kills) mariadb_kills=$2 ;;
        --stops) stops=$2 ;;
        --stop-seconds) stop_seconds=$2 ;;
        --run-seconds) run_seconds=$2 ;;
        --rate) rate=$2 ;;
        --scenarios) scenarios=$2 ;;
        *) sed -n '7,8s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
    shift 2
done
[ "$run_seconds" -ge 3 ] || die "--run-seconds must be 3 or more"
IFS=, read -r -a scenario_list <<<"$scenarios"
for scenario in "${scenario_list[@]}"; do
    case $scenario in drop | mixed | groupbuy | catalog) ;; *) die "--scenarios: drop, mixed, groupbuy or catalog" ;; esac
done

if [ -z "${LIVEBUYD:-}" ] || [ -z "${LIVEBUY_LOAD:-}" ]; then
    bash "$root/scripts/deps.sh"
    say "building Release into build/"
    (cd "$root" && build_into build -DCMAKE_BUILD_TYPE=Release)
    LIVEBUYD=$root/build/livebuyd LIVEBUY_LOAD=$root/build/loadtest/livebuy-load
fi

work=$(mktemp -d /tmp/livebuy-chaos.XXXXXX)
server_pid="" load_pid=""
cleanup() {
    [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill -CONT "$(cat "$work/db/mysqld.pid" 2>/dev/null || echo 0)" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    bash "$root/scripts/mariadb.sh" stop "$work/db" >/dev/null 2>&1 || true
    if [ "${LIVEBUY_CHAOS_KEEP:-0}" = 1 ]; then say "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

admin=chaos-admin-token-0123456789 buyer=chaos-buyer-secret-0123456789 payment=chaos-payment-secret-0123456789
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
bash "$root/scripts/mariadb.sh" start "$work/db" >/dev/null
bash "$root/scripts/mariadb.sh" sql "$work/db" -e "CREATE DATABASE chaos CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
mariadb_pid() { cat "$work/db/mysqld.pid"; }

now() { date +%s%3N; } # milliseconds

start_livebuyd() {
    # Leak checks off under a sanitizer build: a killed process cannot tear down.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$LIVEBUYD" --listen "127.0.0.1:$port" \
        --db "mysql://root@localhost/chaos?socket=$work/db/mysqld.sock" --admin-token "$admin" --buyer-secret "$buyer" \
        --payment-secret "$payment" --media-dir "$work/media" --sql-dir "$root/sql" --web-dir "$root/web" \
        >>"$work/livebuyd.log" 2>&1 &
    server_pid=$!
}

# Seconds from START until /readyz answers 200 (livebuyd up and its database answering), at most 60.
answer_again() { # start
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/readyz" 2>/dev/null)" = 200 ]; do
        [ $(($(now) - $1)) -gt 60000 ] && { echo 60; return; }
        sleep 0.02
    done
    awk -v ms=$(($(now) - $1)) 'BEGIN { printf "%.2f\n", ms / 1000 }'
}

start_livebuyd
[ "$(answer_again "$(now)")" != 60 ] || { cat "$work/livebuyd.log" >&2; die "livebuyd did not start"; }

events=()
for ((i = 0; i < livebuyd_kills; i++)); do events+=(livebuyd); done
for ((i = 0; i < mariadb_kills; i++)); do events+=(mariadbd); done
for ((i = 0; i < stops; i++)); do events+=(stop); done
# Spread the database events among the livebuyd kills: every (n / (m + 1))th event is one of them.
total=${#events[@]}
order=()
db_events=("${events[@]:livebuyd_kills}")
step=$((total / (${#db_events[@]} + 1) + 1))
j=0
for ((i = 0; i < livebuyd_kills; i++)); do
    if [ $j -lt ${#db_events[@]} ] && [ $(((i + 1) % step)) -eq 0 ]; then
        order+=("${db_events[j]}")
        j=$((j + 1))
    fi
    order+=(livebuyd)
done
for (( ; j < ${#db_events[@]}; j++)); do order+=("${db_events[j]}"); done

survived=0 failed=0 orders=0 oversold=0 lost=0 duplicated=0 other=0
times_livebuyd=() times_mariadbd=() times_stop=()
n=0
for event in "${order[@]}"; do
    n=$((n + 1))
    scenario=${scenario_list[$(((n - 1) % ${#scenario_list[@]}))]}
    log=$work/run-$n.log
    # drop: a quota of one unit a buyer, about half of what they ask for, so that the item sells out in the middle of
    # the run, near the kill.
    buyers=$((rate * run_seconds))
    sizes=()
    [ "$scenario" = drop ] && sizes=(--stock $((2 * buyers)) --quota "$buyers")
    [ "$scenario" = catalog ] && sizes=(--skus 1000)
    "$LIVEBUY_LOAD" --url "$base" --admin-token "$admin" --buyer-secret "$buyer" --payment-secret "$payment" \
        --scenario "$scenario" --rate "$rate" --duration "$run_seconds" --buyers "$buyers" "${sizes[@]}" --quiet \
        --max-retries 6 --allow-status network,503 >"$log" 2>&1 &
    load_pid=$!
    # Somewhere in the run's middle, after its set-up (which livebuy-load does not retry: catalog's 1,000 SKUs take
    # seconds): once it says "set up", 0.5 s plus up to run_seconds - 2.
    for _ in $(seq 600); do
        if grep -q '^livebuy-load: set up ' "$log" 2>/dev/null || ! alive "$load_pid"; then break; fi
        sleep 0.1
    done
    sleep "$(awk -v r=$RANDOM -v s="$run_seconds" 'BEGIN { printf "%.1f", 0.5 + (r % ((s - 2) * 10)) / 10 }')"
    case $event in
        livebuyd)
            t0=$(now)
            kill -KILL "$server_pid"
            wait "$server_pid" 2>/dev/null || true
            start_livebuyd
            took=$(answer_again "$t0")
            times_livebuyd+=("$took")
            what="kill -9 livebuyd" ;;
        mariadbd)
            t0=$(now)
            kill -KILL "$(mariadb_pid)"
            bash "$root/scripts/mariadb.sh" start "$work/db" >/dev/null 2>&1
            took=$(answer_again "$t0")
            times_mariadbd+=("$took")
            what="kill -9 mariadbd" ;;
        stop)
            kill -STOP "$(mariadb_pid)"
            sleep "$stop_seconds"
            t0=$(now)
            kill -CONT "$(mariadb_pid)"
            took=$(answer_again "$t0")
            times_stop+=("$took")
            what="SIGSTOP mariadbd ${stop_seconds} s, then SIGCONT" ;;
    esac
    status=0
    wait "$load_pid" || status=$?
    load_pid=""
    line=$(grep -E '^livebuy-load: check (ok|FAILED)' "$log" || true)
    count=$(sed -nE 's/^livebuy-load: check (ok|FAILED): ([0-9]+) orders.*/\2/p' "$log")
    orders=$((orders + ${count:-0}))
    oversold=$((oversold + $(grep -c 'VIOLATION oversold\|VIOLATION counters exceed' "$log" || true)))
    lost=$((lost + $(grep -c 'VIOLATION lost order' "$log" || true)))
    duplicated=$((duplicated + $(grep -c 'VIOLATION one order per idempotency key\|VIOLATION order listing' "$log" || true)))
    if [ "$status" = 0 ] && [ -n "$line" ] && kill -0 "$server_pid" 2>/dev/null; then
        survived=$((survived + 1))
        echo "chaos: $n/$total $scenario, $what: answering again after $took s; ${line#livebuy-load: }"
    else
        failed=$((failed + 1))
        other=$((other + $(grep -c 'VIOLATION' "$log" || true)))
        echo "chaos: $n/$total $scenario, $what: FAILED (livebuy-load exit $status); its log:"
        tail -20 "$log"
    fi
done

# max and median of a list of seconds
stats() {
    [ $# -eq 0 ] && { echo "none"; return; }
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "max %.2f s, median %.2f s (%d)", v[NR], m, NR }'
}
echo "chaos: summary: $survived of $total events survived (livebuyd killed $livebuyd_kills times, mariadbd $mariadb_kills," \
    "frozen $stops); $orders orders checked; oversold $oversold, lost $lost, duplicated $duplicated$([ $other -gt 0 ] && echo ", other violations $other")"
echo "chaos: answering again: after kill -9 livebuyd $(stats "${times_livebuyd[@]}"); after kill -9 mariadbd" \
    "$(stats "${times_mariadbd[@]}"); after SIGCONT $(stats "${times_stop[@]}")"
[ "$failed" -eq 0 ] && [ $((oversold + lost + duplicated)) -eq 0 ]
