#!/usr/bin/env bash
# Tier 3 (real libvirtd, real QEMU under TCG): `vcm reconcile --watch` on a directory source.
# Without restarting the service: a cluster file added -> domains appear; changed -> a node
# added; a domain destroyed behind vcm's back -> running again from the lifecycle event (the
# resync is an hour away); a broken file -> Stalled in status, nothing deleted; fixed -> Ready;
# removed -> released. A second instance on the same state directory is refused; SIGTERM stops
# the service with exit 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VCM_SOURCE_DIR/scripts/libvirtd-start.sh" >/dev/null
"$VCM_SOURCE_DIR/scripts/build-tiny-guest.sh" >/dev/null

run=$$
cluster=sv$run
site=test-sv$run
work=$(mktemp -d)
repo=$work/repo
state=$work/state
svc_pid=
cleanup() {
  [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null && wait "$svc_pid" 2>/dev/null || true
  libvirt_cleanup "$cluster" "$site"
  rm -rf "$work"
}
trap cleanup EXIT
make_repo "$repo" "$cluster" "$site"
mv "$repo/clusters/$cluster.yaml" "$work/cluster.yaml"
# One node to start with (CI has 2 cores).
sed -i 's/^      count: 2$/      count: 1/' "$work/cluster.yaml"

# wait_for SECONDS WHAT CMD...: poll CMD every half second until it succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "--- service log" >&2; tail -n 40 "$work/log" >&2 || true
  fail "timed out after ${secs}s waiting for: $what"
}
running() { [ "$(virsh domstate "$cluster-$1" 2>/dev/null)" = running ]; }
absent() { ! virsh -q dominfo "$cluster-$1" >/dev/null 2>&1; }
condition() {
  python3 - "$state/status.json" "$1" "${2:-}" "${3:-}" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
want, cluster, cstate = sys.argv[2], sys.argv[3], sys.argv[4]
assert doc["condition"]["state"] == want, doc["condition"]
if cluster:
    c = [c for c in doc["clusters"] if c["name"] == cluster]
    assert c and c[0]["state"] == cstate, c
PY
}

note "start the service on a repository with no clusters"
"$VCM" reconcile --watch --source "$repo" --state-dir "$state" --debounce 100ms --resync 1h \
  --allow-empty > "$work/log" 2>&1 &
svc_pid=$!
wait_for 30 "first status" test -s "$state/status.json"

note "a second instance is refused"
expect_exit 3 "$VCM" reconcile --watch --source "$repo" --state-dir "$state"

note "add the cluster file"
cp "$work/cluster.yaml" "$repo/clusters/$cluster.yaml"
wait_for 120 "frontend and compute-0 running" bash -c \
  "[ \"\$(virsh domstate $cluster-frontend)\" = running ] && [ \"\$(virsh domstate $cluster-compute-0)\" = running ]"
wait_for 30 "cluster Ready" condition Ready "$cluster" Ready
# The pass that created them saw them absent; the events of their start bring them in.
wait_for 30 "compute-0 in vcm status" bash -c \
  "'$VCM' status $cluster --state-dir '$state' | grep -q 'compute-0.*running'"

note "change it: a second node"
sed 's/^      count: 1$/      count: 2/' "$work/cluster.yaml" > "$work/tmp.yaml"
mv "$work/tmp.yaml" "$repo/clusters/$cluster.yaml"
wait_for 120 "compute-1 running" running compute-1

note "destroy compute-0 behind vcm's back: repaired from the lifecycle event"
wait_for 30 "quiet service" condition Ready "$cluster" Ready
virsh -q destroy "$cluster-compute-0" >/dev/null
wait_for 60 "compute-0 running again" running compute-0
grep -q "pass (resource event" "$work/log" || fail "the repair did not come from an event"
grep -q "pass (resync" "$work/log" && fail "a resync ran; the test cannot tell event from resync"

note "a broken file: Stalled, nothing deleted"
printf 'apiVersion: vcm/v1\nkind: VirtualCluster\nmetadata: {name: %s}\nspec: {bogus: 1}\n' \
  "$cluster" > "$repo/clusters/$cluster.yaml"
wait_for 30 "Stalled" condition Stalled
for node in frontend compute-0 compute-1; do running "$node" || fail "$node was touched"; done
"$VCM" status -o json --state-dir "$state" | grep -q "bogus" || fail "status lacks the error"

note "fixed again: Ready"
sed 's/^      count: 1$/      count: 2/' "$work/cluster.yaml" > "$work/tmp.yaml"
mv "$work/tmp.yaml" "$repo/clusters/$cluster.yaml"
wait_for 30 "Ready" condition Ready "$cluster" Ready

note "remove the file: released"
rm "$repo/clusters/$cluster.yaml"
wait_for 120 "domains gone" bash -c \
  "! virsh -q dominfo $cluster-frontend && ! virsh -q dominfo $cluster-compute-0 && ! virsh -q dominfo $cluster-compute-1"
[ -z "$(libvirt_inventory "$cluster" "$site")" ] || fail "left behind: $(libvirt_inventory "$cluster" "$site")"

note "SIGTERM: clean exit"
kill -TERM "$svc_pid"
rc=0
wait "$svc_pid" || rc=$?
svc_pid=
[ "$rc" -eq 0 ] || fail "the service exited $rc on SIGTERM"
grep -q "stopping" "$work/log" || fail "no stop message"
note "ok"
