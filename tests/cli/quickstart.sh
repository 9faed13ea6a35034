#!/usr/bin/env bash
# Tier 3 (real libvirtd, real QEMU under TCG): the quickstart cluster through the vcm CLI.
# Create -> guests run their init -> no-op -> heal a domain destroyed behind vcm's back ->
# release at the window's end removes what vcm made and nothing else.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VCM_SOURCE_DIR/scripts/libvirtd-start.sh" >/dev/null
"$VCM_SOURCE_DIR/scripts/build-tiny-guest.sh" >/dev/null

run=$$
cluster=qs$run
site=test-qs$run
work=$(mktemp -d)
repo=$work/repo
state=$work/state
lookalike=$cluster-compute-9
cleanup() {
  libvirt_cleanup "$cluster" "$site"
  rm -rf "$work"
}
trap cleanup EXIT
make_repo "$repo" "$cluster" "$site"
v() { "$VCM" "$@" --source "$repo"; }

# An unmarked domain with a vcm-like name: vcm must never touch it.
cat > "$work/lookalike.xml" <<XML
<domain type='qemu'><name>$lookalike</name><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os></domain>
XML
virsh -q define "$work/lookalike.xml" >/dev/null
others_before=$(libvirt_others "$cluster" "$site")

note "validate and plan"
v validate
expect_exit 2 v plan
v plan -o json > "$work/plan.json" || true
python3 - "$work/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
kinds = sorted(c["kind"] for c in p["changes"] if c["action"] == "create")
assert kinds.count("domain") == 3, kinds
assert kinds.count("volume") == 3, kinds
assert kinds.count("bridge") == 1, kinds
assert kinds.count("seed") == 3, kinds
PY

note "apply"
v apply --state-dir "$state"
for node in frontend compute-0 compute-1; do
  [ "$(virsh domstate "$cluster-$node")" = running ] || fail "$cluster-$node is not running"
done
[ -s "$state/journal.jsonl" ] || fail "no journal"

note "guests reach their init (TCG on a loaded machine: up to 300 s)"
for node in frontend compute-0 compute-1; do
  log=/var/log/vcm/$cluster-$node.serial.log
  for _ in $(seq 300); do grep -q VCM-GUEST-INIT "$log" 2>/dev/null && break; sleep 1; done
  grep -q VCM-GUEST-INIT "$log" || fail "$node: no VCM-GUEST-INIT in $log"
done

note "a second pass changes nothing"
expect_exit 0 v plan
out=$(v apply --state-dir "$state")
grep -q "No changes" <<<"$out" || fail "second apply was not a no-op: $out"

note "a domain destroyed behind vcm's back is started again"
virsh -q destroy "$cluster-compute-1" >/dev/null
expect_exit 2 v plan
v apply --state-dir "$state"
[ "$(virsh domstate "$cluster-compute-1")" = running ] || fail "compute-1 was not restarted"
expect_exit 0 v plan

note "safety rule 1: a broken spec or an empty repository never causes deletion"
file=$repo/clusters/$cluster.yaml
cp "$file" "$work/cluster.yaml"
echo "  nodes: [unclosed" >> "$file"
out=$(v plan 2>&1 || true)
grep -q "error" <<<"$out" || fail "a broken spec gave no error: $out"
! grep -q "destroy" <<<"$out" || fail "a broken spec planned deletions: $out"
rm "$file"
out=$(v plan 2>&1 || true)
! grep -q "destroy" <<<"$out" || fail "an empty repository planned deletions: $out"
grep -q -- "--allow-empty" <<<"$out" || fail "no hint about --allow-empty: $out"
out=$(v plan --allow-empty 2>&1 || true)
grep -q "10 to destroy" <<<"$out" || fail "--allow-empty does not plan the release: $out"
cp "$work/cluster.yaml" "$file"
expect_exit 0 v plan

note "the window's end releases everything vcm made, and only that"
after=2030-01-01T00:00:01Z
out=$(v plan --at "$after" || true)
grep -q "Plan: 0 to create, 0 to update, 10 to destroy." <<<"$out" ||
  fail "plan --at after the window does not destroy the 10 resources: $out"
v apply --at "$after" --state-dir "$state"
left=$(libvirt_inventory "$cluster" "$site")
[ "$left" = "domain $lookalike" ] || fail "after release, left: $left"
vols=$(virsh -q vol-list vcm) # whole: grep -q closing the pipe early would fail virsh
grep -q "\.vcm-pool" <<<"$vols" || fail "the pool's own marker was removed"
[ "$left" = "domain $lookalike" ] || fail "after release, left: $left"
# Everything that was there before and is not the test's is still there (others may have made
# new objects meanwhile on a shared libvirtd; that is not this test's business).
gone=$(comm -23 <(echo "$others_before") <(libvirt_others "$cluster" "$site"))
[ -z "$gone" ] || fail "objects that are not the test's are gone: $gone"
expect_exit 0 v plan --at "$after"
echo "PASS"
