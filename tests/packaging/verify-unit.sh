#!/usr/bin/env bash
# The systemd units as cmake --install puts them (packaging/livebuyd.service, livebuy-backup.service and .timer, their
# ExecStart at the installed programs) pass systemd-analyze verify, and bin/livebuy-backup runs from the install.
# Skipped (exit 77) where systemd-analyze is not installed.
# Usage: tests/packaging/verify-unit.sh BUILD_DIR
set -euo pipefail
build=$1
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIPPED: systemd-analyze is not installed (Debian's systemd package): the units are not verified" >&2
    exit 77
fi
prefix=$(mktemp -d /tmp/lbunit.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
units=$prefix/lib/systemd/system
grep -qx "ExecStart=$prefix/bin/livebuyd" "$units/livebuyd.service"
grep -qx "ExecStart=$prefix/bin/livebuy-backup save-in /var/lib/livebuy-backup" "$units/livebuy-backup.service"
# The timer names no program: verify checks it starts a unit that exists (its service, beside it).
for unit in livebuyd.service livebuy-backup.service livebuy-backup.timer; do
    # verify prints its findings and exits non-zero on any; a warning it prints without failing fails here too.
    out=$(cd "$units" && systemd-analyze verify "$units/$unit" 2>&1) || { echo "$out" >&2; exit 1; }
    if [ -n "$out" ]; then
        echo "$out" >&2
        exit 1
    fi
    echo "systemd-analyze verify: $units/$unit is accepted"
done
