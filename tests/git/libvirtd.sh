#!/usr/bin/env bash
# Tier 3 (real libvirtd, real QEMU under TCG): the quickstart cluster applied from an ssh://
# source (sshd on 127.0.0.1, generated keys), a change pushed and applied, `vcm history`, and
# the release at the window's end. Touches only the run's own cluster and site.
set -euo pipefail
here=$(dirname "$0")
. "$VCM_SOURCE_DIR/tests/cli/lib.sh"
. "$here/lib.sh"

"$VCM_SOURCE_DIR/scripts/libvirtd-start.sh" >/dev/null
"$VCM_SOURCE_DIR/scripts/build-tiny-guest.sh" >/dev/null

run=$$
cluster=gs$run
site=test-gs$run
gf_init
state=$GF_DIR/state
cleanup() {
  libvirt_cleanup "$cluster" "$site"
  gf_cleanup
}
trap cleanup EXIT

wt=$GF_DIR/specs
make_repo "$wt" "$cluster" "$site"
gf_git "$wt" init -q -b main
first=$(gf_commit "$wt" "$cluster: frontend and two nodes")
bare=$(gf_bare specs "$wt")
gf_push "$wt" main
gf_sshd "$state"
url=$GF_SSH_URL$bare
v() { local cmd=$1; shift; "$VCM" "$cmd" --source "$url" --ssh-key "$GF_SSH_KEY" --state-dir "$state" "$@"; }

note "plan and apply from $url"
expect_exit 2 v plan >/dev/null
v apply
for node in frontend compute-0 compute-1; do
  [ "$(virsh domstate "$cluster-$node")" = running ] || fail "$cluster-$node is not running"
done
! grep -v "\"commit\":\"$first\"" "$state/journal.jsonl" || fail "journal lines without $first"
# the whole XML first: grep -q closing the pipe early would fail virsh under pipefail
xml=$(virsh dumpxml "$cluster-frontend")
grep -q "$first" <<<"$xml" || fail "the domain does not carry the commit"

note "a pushed change is applied: one more node"
sed -i 's/count: 2/count: 3/' "$wt/clusters/$cluster.yaml"
second=$(gf_commit "$wt" "$cluster: a third node")
gf_push "$wt" main
v apply
[ "$(virsh domstate "$cluster-compute-2")" = running ] || fail "compute-2 is not running"
expect_exit 0 v plan >/dev/null

note "history"
out=$(v history "$cluster")
echo "$out"
grep -q "^commit $second$" <<<"$out" || fail "history lacks $second"
grep -q "^commit $first$" <<<"$out" || fail "history lacks $first"
grep -q "create  domain local/$cluster-compute-2 ok (spec ${second:0:7})" <<<"$out" ||
  fail "compute-2's creation is not under $second"

note "the window's end releases it"
v apply --at 2030-01-01T00:00:01Z >/dev/null
left=$(libvirt_inventory "$cluster" "$site")
[ -z "$left" ] || fail "after release, left: $left"
echo PASS
