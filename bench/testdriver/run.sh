#!/bin/sh
# Build the test-driver benchmark in Release and print its figures as a table, one process per
# size (each size's RSS is its own; the test driver's state lives in the process).
# Usage: bench/testdriver/run.sh [--daemon | --daemons[=K]] [N ...]   (default 100 1000;
# BUILD_DIR overrides the build dir)
# --daemon: the test driver served by the running libvirtd (test+unix:///default, started with
# scripts/libvirtd-start.sh), so the RSS printed is vcm's alone; libvirtd's is printed next to it.
# The bench removes its objects from libvirtd itself; after a failed or interrupted run this
# script runs `bench_testdriver --daemon --cleanup` as well.
# --daemons[=K]: K private libvirtd (unprivileged session daemons in temp dirs, started and
# stopped by the bench), one per host, so that more than 372 clusters can be observed; K from N
# when not given. The RSS printed is vcm's alone; the daemons' summed RSS and CPU next to it.
# The setup apply of each size creates every domain, volume, seed and network through the
# provider: about 20 s at N=1000 and 1-2 minutes at N=5000 (1.2 GiB of test driver state).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-/tmp/vcm-bench-testdriver-build}
daemon=
sizes=
for a in "$@"; do
        case $a in
        --daemon) daemon=--daemon ;;
        --daemons | --daemons=*) daemon=$a ;;
        *) sizes="$sizes $a" ;;
        esac
done
[ -n "$sizes" ] || sizes="100 1000"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_testdriver >/dev/null
bin=$build/bench/testdriver/bench_testdriver
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load: $(uptime | sed 's/.*load average/load average/')"
if [ "${daemon%%=*}" = --daemons ]; then
        echo "mode: $daemon (private libvirtd per host, test+unix:///default?socket=...; RSS is vcm's alone)"
elif [ -n "$daemon" ]; then
        "$src/scripts/libvirtd-start.sh"
        echo "mode: daemon (test+unix:///default served by libvirtd; RSS is vcm's alone)"
else
        echo "mode: in-process (test:///default; RSS is vcm's plus the test driver's)"
fi
rows=$(mktemp)
ok=0
finish() {
        rm -f "$rows"
        if [ "$daemon" = --daemon ] && [ "$ok" = 0 ]; then
                "$bin" --daemon --cleanup || true
        fi
}
trap finish EXIT
trap 'exit 130' INT TERM HUP
for n in $sizes; do
        ("$bin" "$n" $daemon || echo "FAILED: bench_testdriver $n $daemon") | tee -a "$rows" |
                grep -v '^ROW '
done
grep -q '^FAILED' "$rows" || ok=1
echo
echo "load: $(uptime | sed 's/.*load average/load average/')"
if [ "${daemon%%=*}" = --daemons ]; then
        echo "mode: $daemon (vcm's RSS; the daemons' summed for context)"
        printf '%8s %10s %3s %7s %18s %18s %18s %9s %9s %10s %10s %11s %11s %8s\n' clusters \
                resources K "vols/h" "no-op ms wall/CPU" "plan ms wall/CPU" "observe wall/CPU" \
                "RSS start" "RSS setup" "no-op peak" "plan peak" "daemons RSS" "daemons CPU" \
                "setup s"
        grep '^ROW ' "$rows" | while read -r _ n res noop plan r0 r1 rp _ nc pc k vh drss dcpu \
                ob obc rpp ts; do
                printf '%8s %10s %3s %7s %18s %18s %18s %5s MiB %5s MiB %6s MiB %6s MiB %7s MiB %8s ms %8s\n' \
                        "$n" "$res" "$k" "$vh" "$noop / $nc" "$plan / $pc" "$ob / $obc" "$r0" \
                        "$r1" "$rp" "$rpp" "$drss" "$dcpu" "$ts"
        done
elif [ -z "$daemon" ]; then
        echo "mode: in-process"
        printf '%8s %10s %12s %12s %12s %12s %14s %12s\n' clusters resources "no-op ms" \
                "plan ms" "RSS start" "RSS setup" "RSS no-op pk" "pk - start"
        grep '^ROW ' "$rows" | while read -r _ n res noop plan r0 r1 rp rd; do
                printf '%8s %10s %12s %12s %10s MiB %8s MiB %10s MiB %8s MiB\n' \
                        "$n" "$res" "$noop" "$plan" "$r0" "$r1" "$rp" "$rd"
        done
else
        echo "mode: daemon (vcm's RSS; libvirtd's for context)"
        printf '%8s %10s %18s %18s %12s %12s %14s %12s %22s\n' clusters resources \
                "no-op ms wall/CPU" "plan ms wall/CPU" "RSS start" "RSS setup" \
                "RSS no-op pk" "pk - start" "libvirtd before/after"
        grep '^ROW ' "$rows" | while read -r _ n res noop plan r0 r1 rp rd nc pc l0 l1; do
                printf '%8s %10s %18s %18s %8s MiB %8s MiB %10s MiB %8s MiB %14s MiB\n' \
                        "$n" "$res" "$noop / $nc" "$plan / $pc" "$r0" "$r1" "$rp" "$rd" \
                        "$l0 / $l1"
        done
fi
