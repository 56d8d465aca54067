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
