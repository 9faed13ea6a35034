#!/usr/bin/env bash
# The binary's modules (cli/modules.c): libvirt's provider and the calendar's drawing are loaded
# only by the commands that use them. A binary without its modules still validates specs, and a
# command that needs one says which file is missing, where it was looked for and how to point
# at it (VCM_MODULE_DIR). They are found next to the binary and in an installed layout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../git/specs.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gf_specs_testdriver "$work/repo" modules keep
mkdir "$work/bin"
cp "$VCM" "$work/bin/vcm"
alone=$work/bin/vcm
modules=$(dirname "$VCM")

"$alone" validate --source "$work/repo" > /dev/null || fail "validate needs no module"
rc=0
"$alone" plan --refresh --source "$work/repo" --state-dir "$work/state" > /dev/null 2> "$work/err" || rc=$?
[ "$rc" = 1 ] || fail "plan without the libvirt module exited $rc: $(cat "$work/err")"
grep -q "the libvirt provider (vcm-libvirt.so) cannot be loaded: .*$work/bin/vcm-libvirt.so.*VCM_MODULE_DIR" "$work/err" ||
  fail "no clear message: $(cat "$work/err")"
rc=0
"$alone" calendar --source "$work/repo" -o svg > /dev/null 2> "$work/err" || rc=$?
[ "$rc" = 1 ] && grep -q "vcm-calendar.so" "$work/err" || fail "calendar -o svg: exit $rc, $(cat "$work/err")"

note "VCM_MODULE_DIR points at them"
rc=0
VCM_MODULE_DIR=$modules "$alone" plan --refresh --source "$work/repo" --state-dir "$work/state" \
  > "$work/out" 2> "$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q "keep-frontend" "$work/out" || fail "plan with VCM_MODULE_DIR: exit $rc, $(cat "$work/err")"
VCM_MODULE_DIR=$modules "$alone" calendar --source "$work/repo" -o svg > "$work/cal.svg" &&
  grep -q "<svg" "$work/cal.svg" || fail "calendar with VCM_MODULE_DIR"

note "an installed layout: bin/vcm and lib/vcm/*.so"
mkdir -p "$work/prefix/bin" "$work/prefix/lib/vcm"
cp "$VCM" "$work/prefix/bin/vcm"
cp "$modules"/vcm-*.so "$work/prefix/lib/vcm/"
rc=0
"$work/prefix/bin/vcm" plan --refresh --source "$work/repo" --state-dir "$work/state" > /dev/null || rc=$?
[ "$rc" = 2 ] || fail "plan from an installed layout exited $rc"

note "the binary does not link libvirt; its module does"
# Read whole before grep (grep -q closing the pipe early fails the writer under pipefail).
needs=$(readelf -d "$VCM"); module_needs=$(readelf -d "$modules/vcm-libvirt.so")
! grep -q "Shared library: \[libvirt" <<<"$needs" || fail "the binary links libvirt itself"
grep -q "Shared library: \[libvirt.so" <<<"$module_needs" || fail "the module does not link libvirt"
echo PASS
