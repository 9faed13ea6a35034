#!/usr/bin/env bash
# Tier 3 (real libvirtd, real QEMU under TCG): guests get their seed.
# The tiny guest mounts its seed disk and reports its host name, appliance and ssh keys on the
# serial console; they match the spec. `vcm seed` shows the same files. Removing a Roll or
# changing a key plans seed rewrites and restarts and nothing else; after apply the guest reports
# the new key. The window's end removes the seeds with the rest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v virsh >/dev/null || { echo "SKIP: no virsh"; exit 77; }
"$VCM_SOURCE_DIR/scripts/libvirtd-start.sh" >/dev/null
"$VCM_SOURCE_DIR/scripts/build-tiny-guest.sh" >/dev/null

run=$$
cluster=sd$run
site=test-seed$run
work=$(mktemp -d)
repo=$work/repo
state=$work/state
cleanup() {
  libvirt_cleanup "$cluster" "$site"
  rm -rf "$work"
}
trap cleanup EXIT
make_repo "$repo" "$cluster" "$site"
file=$repo/clusters/$cluster.yaml
v() { "$VCM" "$@" --source "$repo"; }

# Two keys made for this run; one compute node keeps TCG time down.
ssh-keygen -q -t ed25519 -N "" -C "alice@$cluster" -f "$work/ka"
ssh-keygen -q -t ed25519 -N "" -C "bob@$cluster" -f "$work/kb"
key_a=$(cat "$work/ka.pub")
key_b=$(cat "$work/kb.pub")
python3 - "$file" "$key_a" <<'PY'
import re, sys
path, key = sys.argv[1], sys.argv[2]
s = open(path).read()
s = re.sub(r"  sshKeys:\n(    - .*\n)+", '  sshKeys:\n    - "%s"\n' % key, s)
s = s.replace("      count: 2\n", "      count: 1\n")
open(path, "w").write(s)
PY
grep -q "alice@$cluster" "$file" || fail "could not set the key in $file"
others_before=$(libvirt_others "$cluster" "$site")

note "vcm seed shows the files the node gets"
v seed "$cluster" compute-0 --out "$work/seed" >/dev/null
grep -qx "local-hostname: compute-0.$cluster" "$work/seed/meta-data" || fail "meta-data: $(cat "$work/seed/meta-data")"
grep -qx "vcm-appliance: compute" "$work/seed/meta-data" || fail "no appliance in meta-data"
grep -qF "  - \"$key_a\"" "$work/seed/user-data" || fail "key not in user-data"
[ "$(head -c 5 <(tail -c +32770 "$work/seed/seed.iso"))" = "CD001" ] || fail "seed.iso is not ISO 9660"
expect_exit 1 v seed "$cluster" compute-7 --out "$work/nope"

note "plan: a seed for each node"
v plan -o json > "$work/plan.json" || true
python3 - "$work/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
kinds = sorted(c["kind"] for c in p["changes"] if c["action"] == "create")
assert kinds.count("seed") == 2 and kinds.count("domain") == 2, kinds
PY

note "apply; the guests report what their seed says (TCG on a loaded machine: up to 400 s)"
v apply --state-dir "$state" >/dev/null
wait_serial() { # NODE PATTERN: wait until the node's serial log has a line with PATTERN
  local log=/var/log/vcm/$cluster-$1.serial.log
  for _ in $(seq 400); do grep -qF -- "$2" "$log" 2>/dev/null && return 0; sleep 1; done
  echo "--- $log:"; tail -30 "$log" 2>/dev/null || true
  fail "$1: no '$2' on its serial console"
}
wait_serial compute-0 "VCM-SEED hostname=compute-0.$cluster appliance=compute "
wait_serial compute-0 "VCM-SEED key=$key_a"
wait_serial compute-0 "VCM-SEED end keys=1"
wait_serial frontend "VCM-SEED hostname=frontend.$cluster appliance=frontend "
wait_serial frontend "VCM-SEED key=$key_a"
vol=$(virsh -q vol-list vcm | awk -v v="$cluster-compute-0.seed.iso" '$1 == v {print $2}')
[ -n "$vol" ] || fail "no seed volume $cluster-compute-0.seed.iso in pool vcm"
cmp -s "$vol" "$work/seed/seed.iso" || fail "the seed volume is not the bytes 'vcm seed' built"
expect_exit 0 v plan

note "removing the Roll plans the seeds, the restarts, and nothing else"
cp "$file" "$work/cluster.yaml"
sed -i 's/^  rolls: \[base\]$/  rolls: []/' "$file"
grep -q "rolls: \[\]" "$file" || fail "could not remove the Roll"
v plan -o json > "$work/plan-roll.json" || true
python3 - "$work/plan-roll.json" "$cluster" <<'PY'
import json, sys
p, cl = json.load(open(sys.argv[1])), sys.argv[2]
got = sorted((c["action"], c["kind"], c["name"]) for c in p["changes"])
want = sorted([("update", "seed", cl + "-frontend"), ("update", "seed", cl + "-compute-0"),
               ("restart", "domain", cl + "-frontend"), ("restart", "domain", cl + "-compute-0")])
assert got == want, got
for c in p["changes"]:
    keys = set(c["changes"])
    assert keys == ({"digest"} if c["kind"] == "seed" else {"seed.digest"}), c
PY
cp "$work/cluster.yaml" "$file"
expect_exit 0 v plan

note "a new key: the same plan; after apply the guest reports it"
python3 - "$file" "$key_a" "$key_b" <<'PY'
import sys
path, a, b = sys.argv[1:]
s = open(path).read().replace(a, b)
open(path, "w").write(s)
PY
out=$(v plan || true)
grep -q "Plan: 0 to create, 4 to update, 0 to destroy." <<<"$out" || fail "key change plan: $out"
grep -q "update (requires restart) domain $cluster-compute-0 " <<<"$out" || fail "no restart: $out"
v apply --state-dir "$state" >/dev/null
wait_serial compute-0 "VCM-SEED key=$key_b"
wait_serial frontend "VCM-SEED key=$key_b"
log=/var/log/vcm/$cluster-compute-0.serial.log
# The log of the restarted guest: the last report lists the new key only.
last=$(grep "VCM-SEED" "$log" | tail -3)
grep -qF "key=$key_b" <<<"$last" && ! grep -qF "key=$key_a" <<<"$last" ||
  fail "compute-0's last report is not the new key alone: $last"
expect_exit 0 v plan

note "the window's end removes the seeds with the rest"
after=2030-01-01T00:00:01Z
v apply --at "$after" --state-dir "$state" >/dev/null
left=$(libvirt_inventory "$cluster" "$site")
[ -z "$left" ] || fail "after release, left: $left"
gone=$(comm -23 <(echo "$others_before") <(libvirt_others "$cluster" "$site"))
[ -z "$gone" ] || fail "objects that are not the test's are gone: $gone"
echo "PASS"
