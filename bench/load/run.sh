#!/bin/sh
# Build the loader benchmark in Release and print its figures.
# Usage: bench/load/run.sh [N_CLUSTERS] [RUNS]    (BUILD_DIR overrides the build directory)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-load-build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_load >/dev/null
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$build/bench/load/bench_load" "$@"
