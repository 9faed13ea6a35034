#!/usr/bin/env bash
# Several storage hosts through the CLI: `vcm validate` places each cluster's volumes on one of
# them as reconcile would (reconciler/storage_placement.h), so two overlapping clusters that do
# not fit on one storage host fit on two, and one that fits on none is named with every host's
# free room. Works on a private copy of examples/site (no hosts are contacted).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/site
cp -r "$VCM_SOURCE_DIR/examples/site" "$repo"
at=2026-11-26T00:00:00Z
# physics-course (560GiB of volumes) and acme-loan (480GiB) overlap from 2027-02-01;
# bio-farm needs 1604GiB.
sed -i 's|^      portal: 192.0.2.10:3260$|&\n      capacity: {storage: 600GiB}|' "$repo/site.yaml"
grep -q 'storage: 600GiB' "$repo/site.yaml" || fail "site.yaml not edited"

note "one storage host of 600GiB: acme-loan does not fit next to physics-course"
out=$("$VCM" validate --source "$repo" --at "$at" 2>&1) && fail "validate accepted: $out"
grep -q "error: cluster acme-loan does not fit from 2027-02-01T00:00:00Z: storage volume group short by 440GiB (needs 480GiB for volumes, 40GiB free on st1); overlaps with physics-course" <<<"$out" ||
  fail "no storage error for acme-loan: $out"

note "a second storage host of 600GiB: acme-loan goes there; bio-farm fits on neither"
cat >> "$repo/site.yaml.st2" <<'YAML'
    - name: st2
      roles: [storage]
      agent: [ssh, root@st2, vcm, agent]
      volumeGroup: vcm
      portal: 192.0.2.11:3260
      capacity: {storage: 600GiB}
YAML
sed -i "/^  images:$/e cat $repo/site.yaml.st2" "$repo/site.yaml"
rm "$repo/site.yaml.st2"
out=$("$VCM" validate --source "$repo" --at "$at" 2>&1) && fail "validate accepted bio-farm: $out"
! grep -q "acme-loan" <<<"$out" || fail "acme-loan still refused with two storage hosts: $out"
grep -q "error: cluster bio-farm does not fit from .*: storage volume groups short by 1004GiB (needs 1604GiB for volumes on one storage host; st1 600GiB free, st2 600GiB free)" <<<"$out" ||
  fail "no storage error naming both hosts for bio-farm: $out"
[ "$(grep -c 'error:' <<<"$out")" = 1 ] || fail "other errors: $out"

note "bio-farm with less shared storage: everything fits"
sed -i 's/^  sharedStorage: 1TiB$/  sharedStorage: 10GiB/' "$repo/clusters/bio-farm.yaml"
out=$("$VCM" validate --source "$repo" --at "$at" 2>&1) || fail "validate refused: $out"
echo "ok"
