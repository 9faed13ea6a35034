#!/usr/bin/env bash
# Tier 2 (libvirt's test driver, inside the service's own process): `vcm reconcile --watch` on a
# local git repository. Without restarting the service: a commit that adds a cluster, one that
# changes it, one that removes it; a force-push (the branch moved back) and a broken commit
# (Stalled, nothing deleted). Checked through STATE/status.json: the applied commit, each
# cluster's condition, and its nodes as observed (the test driver's state lives in the service).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../git/specs.sh"

work=$(mktemp -d)
repo=$work/repo
state=$work/state
svc_pid=
cleanup() {
  [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null && wait "$svc_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The site (libvirt's test driver) and a cluster `keep` (frontend + 2 nodes) of the git tests.
gf_specs_testdriver "$repo" svcgit keep
cluster() { # NAME SUBNET COUNT
  cat <<YAML
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $1, owner: ops@example.org}
spec:
  network: {subnet: 10.$2.0.0/24}
  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}
  nodes:
    - {name: compute, count: $3, vcpus: 1, memory: 256MiB, disk: 64MiB}
YAML
}
g() { git -C "$repo" -c user.name=test -c user.email=test@example.org "$@"; }
commit() { g add -A; g commit -qm "$1"; g rev-parse HEAD; }

cluster alpha 2 1 > "$repo/clusters/alpha.yaml"
g init -q -b main
c1=$(commit "keep and alpha")

wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "--- service log" >&2; tail -n 40 "$work/log" >&2 || true
  echo "--- status" >&2; cat "$state/status.json" >&2 || true
  fail "timed out after ${secs}s waiting for: $what"
}
# status COMMIT [SERVICE_STATE] [CLUSTER STATE NODES]...: the status file says so.
status() {
  python3 - "$state/status.json" "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
args = sys.argv[2:]
assert doc["applied_commit"] == args[0], doc["applied_commit"]
assert doc["condition"]["state"] == args[1], doc["condition"]
by = {c["name"]: c for c in doc["clusters"]}
for i in range(2, len(args), 3):
    name, state, nodes = args[i], args[i + 1], int(args[i + 2])
    c = by.get(name)
    if state == "Released" and c is None:
        continue  # released in an earlier pass: no longer known at all
    assert c and c["state"] == state, c
    assert len(c["nodes"]) == nodes, c["nodes"]
PY
}

"$VCM" reconcile --watch --source "$repo" --ref main --state-dir "$state" --debounce 100ms \
  --resync 1h > "$work/log" 2>&1 &
svc_pid=$!

note "first commit: two clusters"
wait_for 30 "alpha Ready with 2 nodes" status "$c1" Ready keep Ready 3 alpha Ready 2

note "a hand-run apply next to the service is refused (one writer per state directory)"
expect_exit 3 "$VCM" apply --source "$repo" --ref main --state-dir "$state"

note "a commit that changes alpha: 3 nodes"
cluster alpha 2 2 > "$repo/clusters/alpha.yaml"
c2=$(commit "alpha: 2 compute nodes")
wait_for 30 "alpha with 3 nodes" status "$c2" Ready keep Ready 3 alpha Ready 3

note "a commit that adds beta"
cluster beta 3 1 > "$repo/clusters/beta.yaml"
c3=$(commit "beta")
wait_for 30 "beta Ready" status "$c3" Ready alpha Ready 3 beta Ready 2

note "a commit that removes beta: released"
g rm -q clusters/beta.yaml
c4=$(commit "remove beta")
wait_for 30 "beta released" status "$c4" Ready alpha Ready 3 beta Released 0

note "force-push: main moved back to the commit with beta"
g reset -q --hard "$c3"
wait_for 30 "beta back" status "$c3" Ready alpha Ready 3 beta Ready 2
grep -q "rewritten (force-push)" "$work/log" || fail "the force-push is not reported"

note "a broken commit: Stalled, nothing deleted"
printf 'apiVersion: vcm/v1\nkind: VirtualCluster\nmetadata: {name: alpha}\nspec: {bogus: 1}\n' \
  > "$repo/clusters/alpha.yaml"
c5=$(commit "broken alpha")
wait_for 30 "Stalled, alpha kept" status "$c5" Stalled alpha Stalled 3 beta Ready 2
"$VCM" status alpha --state-dir "$state" | grep -q "compute-1" || fail "vcm status alpha"

note "SIGTERM"
kill -TERM "$svc_pid"
rc=0
wait "$svc_pid" || rc=$?
svc_pid=
[ "$rc" -eq 0 ] || fail "exit $rc on SIGTERM"
note "ok"
