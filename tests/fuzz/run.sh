#!/usr/bin/env bash
# Runs one fuzz target (tests/CMakeLists.txt builds fuzz_TARGET when clang with libFuzzer is there) for a bounded
# number of runs and time, from its seeds here (seeds/TARGET) and the corpus it grows in
# the build folder, with its dictionary when it has one. Exits 77 (ctest: skipped) when it was not built; a crash or a
# sanitizer report fails it and leaves its input in BUILD_DIR/fuzz-crashes (add it to seeds/TARGET once fixed).
# Usage: tests/fuzz/run.sh BUILD_DIR TARGET   (FUZZ_RUNS [200000, -1 for no bound] and FUZZ_SECONDS [8])
set -euo pipefail

dir=$1
target=$2
here=$(cd "$(dirname "$0")" && pwd -P)
if [ ! -x "$dir/fuzz_$target" ]; then
    echo "fuzz_$target was not built (no clang with libFuzzer): skipped"
    exit 77
fi
seeds=("$here/seeds/$target")
options=()
case $target in
    codec_json | bodies_json) options+=(-dict="$here/json.dict") ;;
    codec_msgpack | bodies_msgpack) options+=(-dict="$here/msgpack.dict") ;;
    router) options+=(-dict="$here/router.dict") ;;
esac
mkdir -p "$dir/fuzz-crashes" "$dir/fuzz-corpus/$target"
# -error_exitcode: libFuzzer's default, 77, is ctest's "skipped" (SKIP_RETURN_CODE): a crash would not fail the test.
"$dir/fuzz_$target" -runs="${FUZZ_RUNS:-200000}" -max_total_time="${FUZZ_SECONDS:-8}" -max_len=4096 -timeout=10 \
    -error_exitcode=1 -timeout_exitcode=1 \
    "${options[@]}" -artifact_prefix="$dir/fuzz-crashes/$target-" -print_final_stats=1 \
    "$dir/fuzz-corpus/$target" "${seeds[@]}"
