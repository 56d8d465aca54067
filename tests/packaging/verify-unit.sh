#!/usr/bin/env bash
# packaging/livebuyd.service as cmake --install puts it (ExecStart at the installed livebuyd) passes
# systemd-analyze verify. Skipped (exit 77) where systemd-analyze is not installed.
# Usage: tests/packaging/verify-unit.sh BUILD_DIR
set -euo pipefail
build=$1
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIPPED: systemd-analyze is not installed (Debian's systemd package): the unit is not verified" >&2
    exit 77
fi
prefix=$(mktemp -d /tmp/lbunit.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
unit=$prefix/lib/systemd/system/livebuyd.service
grep -qx "ExecStart=$prefix/bin/livebuyd" "$unit"
# verify prints its findings and exits non-zero on any; a warning it prints without failing fails here too.
out=$(systemd-analyze verify "$unit" 2>&1) || { echo "$out" >&2; exit 1; }
if [ -n "$out" ]; then
    echo "$out" >&2
    exit 1
fi
echo "systemd-analyze verify: $unit is accepted"
