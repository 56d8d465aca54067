#!/usr/bin/env bash
# THE test command: installs what is missing, builds with ASan+UBSan (Debug) into build-test/, starts a throwaway
# MariaDB in a temporary folder (always stopped and removed on exit), runs ctest and exits with its status.
# Usage: scripts/test.sh [--tsan] [ctest args...]      e.g. scripts/test.sh -R config
#   --tsan: build with ThreadSanitizer instead (Debug at -O1, into build-tsan/) and run the same tests (docs/tsan.md).
# The tests find the server through LIVEBUY_TEST_MARIADB_DIR (its folder) and LIVEBUY_TEST_SOCKET (its socket);
# scripts/mariadb.sh sql "$LIVEBUY_TEST_MARIADB_DIR" -e ... runs SQL there as root.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# python3-cryptography makes the WeChat Pay tests' certificates and notifications (tests/integration/test_wechatpay.py).
# python3-pil makes the photo tests' JPEG, PNG and WebP files (tests/integration/test_images.py).
# python3-h2 writes the HTTP/2 frames of the attack tests (tests/integration/test_attacks.py).
# python3-jsonschema and python3-yaml check every answer the integration tests get against docs/openapi.yaml
# (tests/integration/contract.py).
# haproxy is the public edge that tests/integration/test_edge.py attacks (scripts/edge.sh, docs/edge.md).
# systemd gives systemd-analyze, which verifies packaging/livebuyd.service (the test packaging_unit); about 20 MB, and
# its installation needs no running systemd (a container's PID 1 is something else).
# clang and its libFuzzer runtime build the codec's fuzz targets (tests/fuzz/); without them the fuzz test is skipped.
bash scripts/deps.sh python3 python3-msgpack python3-cryptography python3-pil python3-h2 python3-jsonschema python3-yaml haproxy systemd chromium fonts-wqy-microhei clang libclang-rt-dev
# prometheus brings promtool, which checks a /metrics scrape (tests/integration/test_metrics.py); where it cannot be
# installed, that check is skipped.
bash scripts/deps.sh prometheus || say "prometheus (promtool) could not be installed: the promtool check of /metrics is skipped"
# Node.js from Debian (Debian 12's nodejs is Node 18; a newer node already on the machine is used as it is) and two
# npm folders pinned by their package-lock.json, installed again only when it changed:
#   tests/browser/  playwright-core, which drives Debian's chromium (it downloads no browser): the browser tests;
#   tests/openapi/  @redocly/cli, the linter of docs/openapi.yaml (the test openapi_lint).
command -v node >/dev/null && command -v npm >/dev/null || bash scripts/deps.sh nodejs npm
say "using node $(node --version) ($(command -v node)), npm $(npm --version)"
for folder in tests/browser tests/openapi; do
    if ! cmp -s $folder/package-lock.json $folder/node_modules/.livebuy-lock; then
        say "installing $folder/ from npm: $(sed -n 's/^ *"\([^"]*\)": "\([0-9][^"]*\)",*$/\1@\2/p' $folder/package.json | tr '\n' ' ')"
        quietly "npm ci ($folder)" npm ci --prefix $folder --no-audit --no-fund --loglevel=error
        cp $folder/package-lock.json $folder/node_modules/.livebuy-lock
    fi
done
build=build-test
if [ "${1:-}" = --tsan ]; then
    shift
    build=build-tsan
    say "building with ThreadSanitizer into $build/"
    build_into "$build" -DLB_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
else
    say "building with ASan+UBSan into $build/"
    build_into "$build" -DLB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
fi

# A short path under /tmp keeps the socket path within the Unix limit.
dbdir=$(mktemp -d /tmp/livebuy-test.XXXXXX)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    scripts/mariadb.sh stop "$dbdir" >/dev/null 2>&1 || true
    rm -rf "$dbdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
scripts/mariadb.sh start "$dbdir"

export LIVEBUY_TEST_MARIADB_DIR=$dbdir
export LIVEBUY_TEST_SOCKET=$dbdir/mysqld.sock

# Sanitizers: any finding fails the test that hit it, with a stack trace. Set these variables to override.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:disable_coredump=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ -z "${LSAN_OPTIONS:-}" ] && [ -f tests/lsan.supp ]; then
    export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
fi
# ThreadSanitizer: a data race or a lock-order inversion ends the process (exit status 66), which fails its test.
if [ -z "${TSAN_OPTIONS:-}" ]; then
    TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1
    [ -f tests/tsan.supp ] && TSAN_OPTIONS=$TSAN_OPTIONS:suppressions=$root/tests/tsan.supp
    export TSAN_OPTIONS
fi

say "running the tests (MariaDB socket $LIVEBUY_TEST_SOCKET)"
status=0
ctest --test-dir "$build" --output-on-failure "$@" || status=$?
if [ "$status" -eq 0 ]; then
    say "all tests passed"
else
    say "tests failed (ctest exit status $status)"
fi
exit "$status"
