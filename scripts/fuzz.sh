#!/usr/bin/env bash
# Runs one fuzz target for a long while, at the lowest priority (the machine is shared): builds the fuzz targets in
# the test build (build-test/, as scripts/test.sh configures it), runs this one from its seeds and the corpus it has
# grown there, then prints libFuzzer's final counts. docs/fuzzing.md lists the targets and what long runs found.
# Usage: scripts/fuzz.sh TARGET [SECONDS]     e.g. scripts/fuzz.sh router 600   (default 300 s; TARGET without fuzz_)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}
target=${target#fuzz_}
seconds=${2:-300}
bash scripts/deps.sh clang libclang-rt-dev
[ -f build-test/CMakeCache.txt ] || quietly "cmake configure" cmake -S . -B build-test -DLB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
quietly "build of the fuzz targets" nice -n 19 cmake --build build-test --target fuzz_targets
say "fuzz_$target for $seconds s (nice 19); crashes go to build-test/tests/fuzz-crashes/"
FUZZ_RUNS=-1 FUZZ_SECONDS=$seconds nice -n 19 bash tests/fuzz/run.sh "$root/build-test/tests" "$target"
