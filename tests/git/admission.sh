#!/usr/bin/env bash
# Two reservations each fine alone, merged in the "wrong" order (issue: reservations): the one
# whose file entered the branch first keeps the room at reconcile time and the other waits
# Pending with a reason naming who holds it; validate blames the same one. Through the vcm CLI,
# on a git source over file://, against libvirt's test driver (in-process).
set -euo pipefail
here=$(dirname "$0")
. "$VCM_SOURCE_DIR/tests/cli/lib.sh"
. "$here/lib.sh"
. "$here/specs.sh"

gf_init
trap gf_cleanup EXIT
state=$GF_DIR/state
mkdir -p "$state"

wt=$(gf_repo specs)
gf_specs_testdriver "$wt" gitsrc-admit base
rm "$wt/clusters/base.yaml"
# Room for one cluster of a frontend and two nodes of 256MiB, not two.
sed -i 's/capacity: {vcpus: 16, memory: 8GiB}/capacity: {vcpus: 16, memory: 1GiB}/' "$wt/site.yaml"
gf_commit "$wt" "site" > /dev/null
bare=$(gf_bare specs "$wt")

# request NAME SUBNET: a branch adding cluster NAME (the quickstart-sized cluster of specs.sh).
request() {
  gf_git "$wt" checkout -q -b "req-$1" main
  gf_specs_testdriver "$GF_DIR/tmp-$1" gitsrc-admit "$1"
  mkdir -p "$wt/clusters"
  sed "s|10.20.0.0/24|$2|" "$GF_DIR/tmp-$1/clusters/$1.yaml" > "$wt/clusters/$1.yaml"
  gf_commit "$wt" "request $1" > /dev/null
  gf_git "$wt" checkout -q main
}
# "aaa" is written first and sorts first by name; "zzz" is merged first.
request aaa 10.31.0.0/24
request zzz 10.32.0.0/24
gf_git "$wt" merge -q --no-ff -m "Merge zzz" req-zzz
gf_git "$wt" merge -q --no-ff -m "Merge aaa" req-aaa
gf_push "$wt" main

v() { local cmd=$1; shift; "$VCM" "$cmd" --state-dir "$state" --source "file://$bare" "$@"; }

note "reconcile: zzz, merged first, is placed; aaa waits and says who holds the room"
rc=0; out=$(v plan 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "plan: exit $rc: $out"
grep -q "+ create domain zzz-frontend" <<<"$out" || fail "zzz is not planned: $out"
! grep -q "create domain aaa-" <<<"$out" || fail "aaa was planned too: $out"
grep -q "clusters/aaa.yaml:[0-9]*:[0-9]*: warning: cluster aaa cannot be placed: .*the room is held by zzz" <<<"$out" ||
  fail "no Pending reason for aaa naming zzz: $out"

note "validate blames the one merged later"
rc=0; out=$(v validate 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "validate: exit $rc: $out"
grep -q "cluster aaa does not fit" <<<"$out" || fail "validate did not blame aaa: $out"
! grep -q "cluster zzz does not fit" <<<"$out" || fail "validate blamed zzz: $out"
echo PASS
