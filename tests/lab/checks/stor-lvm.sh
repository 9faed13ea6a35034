#!/bin/bash
# The lvm storage backend driven by vcm (issue #8): LVs in the VM host's own volume group,
# attached to its domains as block disks. vcm runs on lab2 with libvirtd there (qemu:///system).
# Shows: tagged LVs and a running domain on them; growing in place keeps the data; shrinking is
# refused by the plan; an untagged LV is never touched, not even one with a name vcm wants;
# release wipes before removing (a new LV on the same extents reads no trace); a node disk
# smaller than its appliance image is refused with the sizes, not cut short.
# Usage: stor-lvm.sh VCM_BINARY
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/stor_lib.sh"
VCM=${1:?usage: stor-lvm.sh VCM_BINARY}
H=lab2 DISK=/dev/vda VG=vcmlvm
W=/root/storlvm
MARK=VCM-LOCAL-DATA-$$

has() { grep -E -- "$1" > /dev/null; }
V() { run $H "cd $W && $VCM $* --source repo --state-dir state"; }

# Cleanup over ssh, tried again when a guest busy under TCG does not answer in time.
again() { local i; for i in 1 2 3; do "$@" && return 0; sleep 5; done; return 1; }
cleanup() {
    set +e
    run $H "cd $W 2>/dev/null && rm -f repo/clusters/*.yaml &&
            timeout 600 $VCM apply --allow-empty --source repo --state-dir state" > /dev/null 2>&1
    again run $H "for d in \$(virsh list --all --name | grep -E '^lo[c23]-'); do virsh destroy \$d; virsh undefine \$d; done
            vgremove -ff -y $VG; pvremove -y $DISK; rm -rf $W; true" > /dev/null 2>&1
}
trap cleanup EXIT

# repo SHARED_SIZE [CLUSTER...]
repo() {
    local shared=$1 d c
    shift
    d=$(mktemp -d)
    mkdir -p "$d/repo/clusters" "$d/repo/rolls"
    cat > "$d/repo/site.yaml" <<Y
apiVersion: vcm/v1
kind: Site
metadata: {name: storlvm}
spec:
  network:
    backend: bridge
    vlanRange: {from: 3910, to: 3919}
  storage: {backend: lvm}
  hosts:
    - name: $H
      roles: [gateway, vm-server]
      libvirt: "qemu:///system"
      capacity: {vcpus: 8, memory: 2GiB}
      domainType: qemu
      volumeGroup: $VG
  images:
    compute: {volume: img-compute}
Y
    printf 'apiVersion: vcm/v1\nkind: Roll\nmetadata: {name: base}\nspec:\n  appliances:\n    frontend: {packages: []}\n    compute: {packages: []}\n' \
        > "$d/repo/rolls/base.yaml"
    for c in "$@"; do
        cat > "$d/repo/clusters/$c.yaml" <<Y
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $c, owner: lab@example.org}
spec:
  rolls: [base]
  network: {subnet: 10.76.0.0/24}
  frontend: {vcpus: 1, memory: 64MiB, disk: 16MiB}
  sharedStorage: $shared
$([ "$c" = lo3 ] && printf '  nodes:\n    - {name: compute, appliance: compute, count: 1, vcpus: 1, memory: 48MiB, disk: 4MiB, install: image}\n')
Y
    done
    tar -C "$d" -c repo | run $H "mkdir -p $W && rm -rf $W/repo && tar -C $W -x" || fail "copy repo"
    rm -rf "$d"
}

note "$H: libvirtd, VG $VG, and an LV that is not vcm's"
run $H "$(dirname "$LAB")/guest/start-libvirtd.sh && modprobe tun" || fail "libvirtd on $H"
run $H "vgs $VG 2>/dev/null && exit 1; pvcreate -qy $DISK && vgcreate -q $VG $DISK &&
        lvcreate -qy -n stray -L 4M $VG && echo STRAY-DATA > /dev/$VG/stray &&
        lvcreate -qy -n img-compute -L 8M $VG" || fail "VG on $H"
repo 8MiB loc
V validate || fail "validate"

note "create: tagged LVs, the domain on them as block disks"
V apply > /dev/null || V apply || fail "apply"
run $H "lvs --noheadings -o lv_name,lv_size,lv_tags $VG" | tee -a /dev/stderr | has "loc-shared .*vcm:loc" ||
    fail "no tagged LV"
[ "$(run $H "virsh domstate loc-frontend")" = running ] || fail "loc-frontend not running"
run $H "virsh dumpxml loc-frontend" | grep -A3 "type='block'" | tee -a /dev/stderr |
    has "<source dev='/dev/$VG/loc-shared'" || fail "shared storage not a block disk"
V plan > /dev/null || fail "not converged"

note "grow in place keeps the data; shrink is refused"
run $H "yes $MARK | head -c 1048576 | dd of=/dev/$VG/loc-shared oflag=direct bs=1M status=none" || fail "write"
repo 12MiB loc
out=$(V plan) || true
echo "$out" | grep -A2 'update volume' || true
has "update volume loc-shared" <<< "$out" || fail "plan does not grow the volume: $out"
V apply > /dev/null || fail "grow"
run $H "lvs --noheadings --units b --nosuffix -o lv_size $VG/loc-shared" | has '^ *12582912$' || fail "not grown"
[ "$(run $H "dd if=/dev/$VG/loc-shared iflag=direct bs=1M status=none | grep -a -c $MARK")" -gt 0 ] || fail "data lost in the grow"
repo 8MiB loc
out=$(V plan 2>&1) && fail "a shrink was planned: $out"
has "shrink" <<< "$out" || fail "no clear refusal of the shrink: $out"
note "refused: $(grep -i shrink <<< "$out" | head -1)"
repo 12MiB loc

note "an LV with a name vcm wants but without its tag is left alone"
run $H "lvcreate -qy -n lo2-frontend -L 4M $VG && echo NOT-VCMS > /dev/$VG/lo2-frontend" || fail "lvcreate"
repo 12MiB loc lo2
out=$(V apply 2>&1) && fail "vcm used someone else's LV: $out"
has "volume lo2-frontend: an LV of that name exists in VG $VG without vcm's tag" <<< "$out" ||
    fail "no clear error for the foreign LV: $out"
[ "$(run $H "head -c 8 /dev/$VG/lo2-frontend")" = NOT-VCMS ] || fail "the foreign LV was changed"
run $H "lvremove -qy $VG/lo2-frontend" || fail "lvremove"

note "a node disk smaller than its appliance image is refused, not cut short"
repo 12MiB loc lo3
out=$(V apply 2>&1) && fail "a 4MiB disk was cloned from an 8MiB image: $out"
has "volume lo3-compute-0: the disk \(4MiB\) is smaller than its appliance image img-compute \(8MiB\)" <<< "$out" ||
    fail "no clear error for the small disk: $out"
[ -z "$(run $H "lvs --noheadings -o lv_name $VG/lo3-compute-0 2>/dev/null")" ] || fail "the small disk was made"
note "refused: $(grep -o 'volume lo3-compute-0: .*' <<< "$out" | head -1)"
repo 12MiB loc
V apply > /dev/null || fail "release of lo3"

note "release: wiped, removed; the untagged LV stays"
extents=$(lv_extents $H $VG loc-shared)
repo 12MiB
V apply --allow-empty > /dev/null || fail "release"
left=$(run $H "lvs --noheadings -o lv_name $VG" | tr -d ' ')
[ "$(sort <<< "$left" | tr '\n' ' ')" = "img-compute stray " ] || fail "LVs after release: $left"
[ "$(run $H "cat /dev/$VG/stray | head -c 10")" = STRAY-DATA ] || fail "the untagged LV was changed"
probe_extents $H $VG "$extents" $MARK > "$VCM_LAB_STATE/stor-lvm-probe" || true
[ "$(cat "$VCM_LAB_STATE/stor-lvm-probe")" = 0 ] || fail "old data on the freed extents $extents: $(cat "$VCM_LAB_STATE/stor-lvm-probe")"
note "a new LV on the freed extents ($extents): 0 copies of the data"
note "ok"
