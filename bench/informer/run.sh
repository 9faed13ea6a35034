#!/bin/sh
# Build bench_informer in Release and run it (default 1000 clusters = 11,000 domains).
# Usage: bench/informer/run.sh [CLUSTERS [RUNS]] [--daemons[=K]]   (BUILD_DIR overrides the build
# dir; --daemons: the test driver in K private libvirtd, so the RSS printed is vcm's alone)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-informer-build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_informer >/dev/null
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$build/bench/informer/bench_informer" "$@"
