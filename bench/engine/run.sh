#!/bin/sh
# Build the engine benchmark in Release and print its figures, one process per size so that each
# peak RSS is that size's own.
# Usage: bench/engine/run.sh [N ...]   (default 100 1000 5000; BUILD_DIR overrides the build dir)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-engine-build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_engine >/dev/null
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
[ $# -gt 0 ] || set -- 100 1000 5000
for n in "$@"; do
        "$build/bench/engine/bench_engine" "$n"
done
