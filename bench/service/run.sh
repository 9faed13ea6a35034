#!/usr/bin/env bash
# Commit-to-first-step latency of `vcm reconcile --watch` on a local git repository (issue #5:
# under 1 s, median of 20). The service watches the repository's refs (inotify); each round
# commits a new cluster file and measures from the moment `git commit` returned to the log line
# of the first step the service started for it. The site is libvirt's test driver, inside the
# service's own process, so the figure is vcm's (source watch, debounce, load, pass), not QEMU's.
# Log timestamps are the service's (milliseconds); t0 is taken just before `git commit` runs.
# Usage: bench/service/run.sh [ROUNDS (default 20)]   (VCM: the binary; default: a Release build)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-20}
. "$src/bench/service/lib.sh"
bench_vcm
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
repo=$work/repo
bench_site "$repo"
cluster() {
  cat <<YAML
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $1, owner: ops@example.org}
spec:
  network: {subnet: 10.$2.0.0/24}
  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}
  nodes:
    - {name: compute, count: 2, vcpus: 1, memory: 256MiB, disk: 64MiB}
YAML
}
cluster base 1 > "$repo/clusters/base.yaml"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=bench -c user.email=bench@example.org add -A
git -C "$repo" -c user.name=bench -c user.email=bench@example.org commit -qm base

"$VCM" reconcile --watch --source "$repo" --ref main --state-dir "$work/state" \
  > "$work/log" 2>&1 &
pid=$!
# Wait for the first pass to converge.
for _ in $(seq 200); do grep -q "pass (start" "$work/log" && break; sleep 0.1; done
grep -q "pass (start" "$work/log" || { cat "$work/log"; exit 1; }
sleep 1

now() { date +%s.%N; }
lat=()
for i in $(seq "$rounds"); do
  name=r$i
  cluster "$name" $((i + 1)) > "$repo/clusters/$name.yaml"
  git -C "$repo" add -A
  # From the moment `git commit` starts (it moves the ref before it returns): an upper bound
  # that includes git's own run time.
  t0=$(now)
  git -C "$repo" -c user.name=bench -c user.email=bench@example.org commit -qm "$name"
  line=
  for _ in $(seq 500); do
    line=$(grep -m1 " create [a-z-]*/$name-.* start$" "$work/log" || true)
    [ -n "$line" ] && break
    sleep 0.01
  done
  [ -n "$line" ] || { echo "round $i: no step started"; tail "$work/log"; exit 1; }
  t1=$(date -d "$(cut -d' ' -f1 <<<"$line")" +%s.%N)
  lat+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
  # Let the pass finish before the next commit.
  for _ in $(seq 500); do
    [ "$(grep -c "pass (source change" "$work/log")" -ge "$i" ] && break
    sleep 0.01
  done
  sleep 0.3
done
kill "$pid"; wait "$pid" || true; pid=
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '%s\n' "${lat[@]}" | sort -n | awk -v n="$rounds" '
  { v[NR] = $1 }
  END {
    med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    printf "commit-to-first-step, local git repository, debounce 200 ms, %d rounds:\n", n
    printf "  median %.0f ms, min %.0f ms, max %.0f ms\n", med, v[1], v[n]
  }'
