#!/usr/bin/env bash
# Runs the codec's fuzz targets (fuzz_codec_json, fuzz_codec_msgpack: tests/CMakeLists.txt builds them when clang with
# libFuzzer is there) for a bounded number of runs and time each, from the seeds here and the corpus they grow in the
# build folder. Exits 77 (ctest: skipped) when they were not built; a crash leaves its input in BUILD_DIR/fuzz-crashes.
# Usage: tests/fuzz/run.sh BUILD_DIR   (FUZZ_RUNS [200000] and FUZZ_SECONDS [30] per target)
set -euo pipefail

dir=$1
here=$(cd "$(dirname "$0")" && pwd -P)
for format in json msgpack; do
    if [ ! -x "$dir/fuzz_codec_$format" ]; then
        echo "fuzz_codec_$format was not built (no clang with libFuzzer): skipped"
        exit 77
    fi
done
mkdir -p "$dir/fuzz-crashes"
for format in json msgpack; do
    mkdir -p "$dir/fuzz-corpus/$format"
    "$dir/fuzz_codec_$format" -runs="${FUZZ_RUNS:-200000}" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=4096 -timeout=10 \
        -dict="$here/$format.dict" -artifact_prefix="$dir/fuzz-crashes/$format-" -print_final_stats=1 \
        "$dir/fuzz-corpus/$format" "$here/seeds/$format"
done
