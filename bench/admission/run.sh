#!/bin/sh
# Build the admission benchmark in Release and print its figures, then time `vcm validate` on
# the same repository (load + validate + capacity check, the whole CLI).
# Usage: bench/admission/run.sh [N_CLUSTERS] [RUNS]    (BUILD_DIR overrides the build directory)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-admission-build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_admission vcm >/dev/null
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
out=$("$build/bench/admission/bench_admission" "${1:-1000}" "${2:-5}" --keep)
echo "$out" | grep -v "repository kept"
dir=$(echo "$out" | sed -n 's/.*repository kept in //p')
start=$(date +%s%N)
rc=0
"$build/cli/vcm" validate --source "$dir" --at 2027-01-01T00:00:00Z >/dev/null 2>&1 || rc=$?
end=$(date +%s%N)
echo "  vcm validate (whole CLI, exit $rc): $(( (end - start) / 1000000 )) ms"
rm -rf "$dir"
