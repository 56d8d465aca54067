# Shared by scripts/run.sh, scripts/test.sh and loadtest/*.sh (sourced, not run): messages and a quiet build.

say() { echo "livebuy: $*" >&2; }
die() {
    say "$*"
    exit 1
}

# Runs a command with its output kept in a log, shown only when the command fails.
quietly() { # label command...
    local label=$1 log
    shift
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        say "$label failed:"
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

# Configures and builds livebuy into a folder of the checkout: build_into DIR [cmake options...]
build_into() {
    local dir=$1
    shift
    quietly "cmake configure" cmake -S . -B "$dir" "$@"
    quietly "build" cmake --build "$dir" -j"$(nproc)"
    [ -x "$dir/livebuyd" ] || die "$dir/livebuyd was not built"
}

# Whether a process runs (a zombie, dead but not yet reaped, does not count; /proc works for other users' processes).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# Waits until a process is gone: wait_gone PID SECONDS (1 when it still runs then).
wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$1" || return 0
        sleep 0.1
    done
    return 1
}

# The command and folder that start a folder-based script's arguments (mariadb.sh, cluster.sh): sets cmd and dir, makes
# the folder for start, calls the script's usage when either is missing. The caller then shifts them off.
read_cmd_dir() {
    [ $# -ge 2 ] && [ -n "$2" ] || usage
    cmd=$1
    dir=$2
    if [ "$cmd" = start ]; then
        mkdir -p "$dir"
    fi
}
