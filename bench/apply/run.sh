#!/bin/sh
# Apply of N new domains on the real libvirtd: vcm's provider against a minimal program making
# the same libvirt calls (define + create, same XML) with the same parallelism, measured in one
# run, alternating, ROUNDS times each. Prints both times (best of the rounds) and the ratio.
# Usage: bench/apply/run.sh [N] [THREADS] [ROUNDS]   (BUILD_DIR overrides the build directory)
set -eu
n=${1:-50}
p=${2:-8}
rounds=${3:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-apply-build}
"$src/scripts/libvirtd-start.sh"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_apply_raw bench_apply_vcm >/dev/null
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "libvirt: $(virsh -c qemu:///system version | sed -n 's/^Running hypervisor: //p; s/^Using library: //p' | tr '\n' ' ')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "N=$n domains, P=$p threads, $rounds rounds each (define + start, TCG, ${n}x 32 MiB, no disk)"
prefix=vcmbench$$
best_raw=inf best_vcm=inf
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "inf" || b + 0 < a + 0) print b; else print a }'; }
i=0
while [ "$i" -lt "$rounds" ]; do
        r=$("$build/bench/apply/bench_apply_raw" "$n" "$p" "$prefix" | awk '{print $6}')
        v=$("$build/bench/apply/bench_apply_vcm" "$n" "$p" "$prefix" | awk '{print $6}')
        echo "round $((i + 1)): raw ${r} s, vcm ${v} s"
        best_raw=$(min "$best_raw" "$r")
        best_vcm=$(min "$best_vcm" "$v")
        i=$((i + 1))
done
echo "best: raw ${best_raw} s, vcm ${best_vcm} s, ratio vcm/raw $(echo "$best_vcm $best_raw" | awk '{printf "%.2f", $1 / $2}') (target <= 1.20)"
