#!/bin/sh
# Build the test-driver benchmark in Release and print its figures as a table, one process per
# size (each size's RSS is its own; the test driver's state lives in the process).
# Usage: bench/testdriver/run.sh [N ...]   (default 100 1000; BUILD_DIR overrides the build dir)
# The setup apply of each size creates every domain, volume, seed and network through the
# provider: about 20 s at N=1000 and 1-2 minutes at N=5000 (1.2 GiB of test driver state).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-testdriver-build}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_testdriver >/dev/null
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
[ $# -gt 0 ] || set -- 100 1000
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for n in "$@"; do
        "$build/bench/testdriver/bench_testdriver" "$n" | tee -a "$rows" | grep -v '^ROW '
done
echo
printf '%8s %10s %12s %12s %12s %12s %14s %12s\n' clusters resources "no-op ms" "plan ms" \
        "RSS start" "RSS setup" "RSS no-op pk" "pk - start"
grep '^ROW ' "$rows" | while read -r _ n res noop plan r0 r1 rp rd; do
        printf '%8s %10s %12s %12s %10s MiB %8s MiB %10s MiB %8s MiB\n' \
                "$n" "$res" "$noop" "$plan" "$r0" "$r1" "$rp" "$rd"
done
