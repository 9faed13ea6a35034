#!/usr/bin/env bash
# `vcm plan` answered by a running service, end to end (issue #3: plan of 1,000 clusters x 10
# nodes under 100 ms). A spec directory of N clusters (a frontend and 10 nodes each, the
# test-driver benches' shape: 34 resources a cluster) on one host on libvirt's test driver, which
# lives inside the service's process; `vcm reconcile --watch` creates everything, then each run
# is a whole `vcm plan` process (start, ask the service over STATE/vcm.sock, print, exit),
# timed from outside. Printed: the median and range of the no-op plan (text and JSON), of a plan
# with one change (an edit not yet reconciled: the service re-reads the specs for it), the
# service's own time per answer (its log), the client's peak RSS, and the one-shot plan of the
# same specs (--refresh; it observes an empty test driver here, so only its load, desired and
# print are comparable, not its observation).
# Needs /usr/bin/time (scripts/setup.sh installs it).
# Usage: bench/service/plan.sh [N (default 1000)] [RUNS (default 15)]
#        (VCM: the binary; default: a Release build in BUILD_DIR)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000}
runs=${2:-15}
. "$src/bench/service/lib.sh"
bench_vcm
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
repo=$work/repo
state=$work/state
bench_site "$repo"
for ((i = 0; i < n; i++)); do
  printf -v name 'c%05d' "$i"
  cat > "$repo/clusters/$name.yaml" <<YAML
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $name, owner: ops@example.org}
spec:
  window: {start: 2026-11-01T00:00:00Z, end: 2030-01-01T00:00:00Z}
  network: {subnet: 10.$((100 + i / 256)).$((i % 256)).0/24}
  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}
  nodes:
    - {name: compute, count: 10, vcpus: 1, memory: 256MiB, disk: 64MiB}
YAML
done

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "clusters: $n x (frontend + 10 nodes); $(( (n < 4094 ? n : 4094) * 34)) resources of the Ready ones on test:///default"
t0=$(date +%s.%N)
"$VCM" reconcile --watch --source "$repo" --state-dir "$state" --resync 1h --debounce 10m \
  > "$work/log" 2>&1 &
pid=$!
# Every cluster Ready, but those beyond the bridge backend's 4,094 network ids, which stay
# Pending ("no free network id") and own nothing.
ready() {
  python3 - "$state/status.json" "$n" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ready = sum(c["state"] == "Ready" for c in doc["clusters"])
sys.exit(0 if ready == min(int(sys.argv[2]), 4094) else 1)
PY
}
until [ -s "$state/status.json" ] && ready 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { tail "$work/log"; echo "the service died" >&2; exit 1; }
  sleep 1
done
echo "setup: the service created everything in $(echo "$(date +%s.%N) - $t0" | bc) s"
echo "load: $(uptime | sed 's/.*load average/load average/')"

python3 - "$VCM" "$repo" "$state" "$runs" "$work/log" <<'PY'
import os, re, statistics, subprocess, sys, time
vcm, repo, state, runs, log = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def timed(args, want):
    walls, rss = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen([vcm, "plan", "--source", repo, "--state-dir", state] + args,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate()
        walls.append((time.perf_counter() - t) * 1000)
        if p.returncode != want:
            sys.exit(f"vcm plan {args} exited {p.returncode}, not {want}: {err.decode()[-2000:]}")
        if "--refresh" not in args and b"planned by the service" not in err:
            sys.exit(f"vcm plan {args} was not answered by the service: {err.decode()}")
    # The client's peak RSS, from one more run under GNU time (a child forked by this Python
    # would count Python's own pages from before its exec).
    p = subprocess.run(["/usr/bin/time", "-f", "%M", vcm, "plan", "--source", repo,
                        "--state-dir", state] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    rss = int(p.stderr.decode().strip().splitlines()[-1])
    return walls, rss, len(out)

def served_ms(since):
    with open(log) as f:
        lines = f.read().splitlines()[since:]
    return [int(m.group(1)) for l in lines for m in [re.search(r"plan asked.*?, (\d+) ms", l)] if m]

def row(what, args, want):
    since = sum(1 for _ in open(log))
    walls, rss, out = timed(args, want)
    s = served_ms(since)
    print(f"  {what:<34} median {statistics.median(walls):7.1f} ms  (min {min(walls):6.1f}, "
          f"max {max(walls):6.1f}; service {statistics.median(s) if s else float('nan'):5.0f} ms; "
          f"client peak RSS {rss / 1024:.1f} MiB; {out} bytes out)")

print(f"`vcm plan` as a whole process, {runs} runs each:")
# Beyond 4,094 clusters the rest have no network id: errors in the plan, exit 1.
full = len(os.listdir(os.path.join(repo, "clusters"))) > 4094
row("no-op plan (text)", [], 1 if full else 0)
row("no-op plan (-o json)", ["-o", "json"], 1 if full else 0)
path = os.path.join(repo, "clusters", "c00000.yaml")
text = open(path).read()
open(path, "w").write(text.replace("count: 10,", "count: 11,"))
row("one node added, not yet reconciled", [], 1 if full else 2)
open(path, "w").write(text)
runs = 3
row("one-shot (--refresh; empty driver)", ["--refresh"], 1 if full else 2)
PY
echo "service: peak RSS $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' /proc/$pid/status) (the test driver's state included)"
