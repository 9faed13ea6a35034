#!/bin/bash
# The lvm-iscsi storage backend driven by vcm (issue #8), on a session of 3 hosts with a disk
# each (lab.sh up 3 --disk 512M --mem 512):
#   lab1  storage host: VG on /dev/vda, LIO target; vcm runs here (its lvm and lio providers
#         serve this host in-process)
#   lab2  VM host: libvirtd, reached by vcm over qemu+ssh; its QEMU attaches the LUNs with the
#         initiator name vcm gives it
#   lab3  a host outside the site: its initiator must be refused
# Shows: clear, located errors (no VG, configfs not mounted, target modules missing, a full VG
# while another cluster goes on); volumes created, exported, attached by the VM host's QEMU,
# readable and writable from lab2's initiator and refused to lab3's; the appliance image copied
# into a node's disk; targetcli coexistence and targetctl restore of the saved file; data kept
# across a vcm restart and a re-export; a half-made target repaired; release wipes (a new LV on
# the same extents reads no trace); kill -9 during export creation converges with no orphan.
# Usage: stor-iscsi.sh VCM_BINARY
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/stor_lib.sh"
VCM=${1:?usage: stor-iscsi.sh VCM_BINARY}
ST=lab1 VM=lab2 OUT=lab3 DISK=/dev/vda VG=vcmstor
STIP=$("$LAB" ip $ST) VMIP=$("$LAB" ip $VM)
KEY=$("$LAB" key)
IQN=iqn.2026-01.org.vcm:sto
INIT_VM=iqn.2026-01.org.vcm.initiator:$VM
INIT_OUT=iqn.2026-01.org.vcm.initiator:$OUT
MARK=VCM-NODE-DATA-$$
W=/root/stor   # vcm's repository and state, in lab1's private overlay

# grep -q in a pipeline may close it early and fail the writer under pipefail: read it all.
has() { grep -E -- "$1" > /dev/null; }
# vcm on the storage host; prints its output, returns its exit status.
# Its output is also kept in $W/vcm.log, shown when the check fails.
V() {
    run $ST "cd $W && { $VCM $* --source repo --state-dir state 2> vcm.err | tee -a vcm.log; rc=\${PIPESTATUS[0]}
             cat vcm.err >&2; cat vcm.err >> vcm.log; exit \$rc; }"
}
# Planned changes of one cluster (0: converged).
changes() {
    V plan -o json 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(sum(1 for c in p["changes"] if c["cluster"] == sys.argv[1]))' "$1"
}
# QEMU's iSCSI driver as a json: source: LUN $1, initiator name $2.
src() {
    printf 'json:{"driver":"raw","file":{"driver":"iscsi","transport":"tcp","portal":"%s:3260","target":"%s","lun":%s,"initiator-name":"%s"}}' \
        "$STIP" "$IQN" "$1" "$2"
}
# Cleanup over ssh, tried again when a guest busy under TCG does not answer in time.
again() { local i; for i in 1 2 3; do "$@" && return 0; sleep 5; done; return 1; }
cleanup() {
    local rc=$?
    set +e
    if [ $rc != 0 ]; then
        echo "--- the last of vcm's output on $ST:"
        run $ST "tail -60 $W/vcm.log" 2>&1 | cut -c1-300
    fi
    # STOR_KEEP=1: leave everything as it is, to look at (lab.sh down removes the session).
    [ "${STOR_KEEP:-0}" = 1 ] && return
    run $ST "pkill -9 -x vcm; cd $W 2>/dev/null && rm -f repo/clusters/*.yaml &&
             timeout 600 $VCM apply --allow-empty --source repo --state-dir state" > /dev/null 2>&1
    # Whatever a failed run left: only vcm's objects and the test's own.
    again run $ST "targetcli /iscsi delete iqn.2026-11.test.vcm:foreign; targetcli /backstores/ramdisk delete foreign
             cd $CFS 2>/dev/null && for t in iscsi/iqn.2026-01.org.vcm:*; do [ -d \"\$t\" ] || continue
               g=\$t/tpgt_1; echo 0 > \$g/enable
               for m in \$g/acls/*/lun_*; do rm -f \$m/*; rmdir \$m; done; rmdir \$g/acls/*
               for l in \$g/lun/lun_*; do rm -f \$l/*; rmdir \$l; done
               rmdir \$g/np/*; rmdir \$g; rmdir \$t; done
             for b in core/iblock_*/vcm.*; do rmdir \$b; rmdir \$(dirname \$b); done
             vgremove -ff -y $VG; pvremove -y $DISK; rm -rf $W /etc/rtslib-fb-target/saveconfig.json; true" > /dev/null 2>&1
    "$LAB" exec bash -c "for d in \$(virsh -c '$URI' list --all --name | grep -E '^(sto|kil|big)-'); do
        virsh -c '$URI' destroy \$d; virsh -c '$URI' undefine \$d; done" > /dev/null 2>&1
}
URI="qemu+ssh://root@$VMIP/system?keyfile=$KEY&no_verify=1"
trap cleanup EXIT

note "lab2: libvirtd (and tun for the domains' NICs)"
run $VM "$(dirname "$LAB")/guest/start-libvirtd.sh && modprobe tun" || fail "libvirtd on $VM"
run $ST "mkdir -p /run/dbus && { [ -S /run/dbus/system_bus_socket ] || dbus-daemon --system --fork; }" ||
    fail "dbus on $ST (targetcli needs it)"

note "repository on $ST"
repo() { # repo CLUSTER...: the site and the named clusters
    local d
    d=$(mktemp -d)
    mkdir -p "$d/repo/clusters" "$d/repo/rolls"
    cat > "$d/repo/site.yaml" <<Y
apiVersion: vcm/v1
kind: Site
metadata:
  name: storlab
spec:
  network:
    backend: bridge
    vlanRange: {from: 3900, to: 3909}
  storage:
    backend: lvm-iscsi
  hosts:
    - name: $VM
      roles: [gateway, vm-server]
      libvirt: "$URI"
      capacity: {vcpus: 8, memory: 2GiB}
      domainType: qemu
    - name: $ST
      roles: [storage]
      volumeGroup: $VG
      portal: $STIP:3260
  images:
    compute: {volume: img-compute}
Y
    cat > "$d/repo/rolls/base.yaml" <<Y
apiVersion: vcm/v1
kind: Roll
metadata: {name: base}
spec:
  appliances:
    frontend: {packages: []}
    compute: {packages: []}
Y
    for c in "$@"; do
        case $c in
        sto) cat > "$d/repo/clusters/sto.yaml" <<Y ;;
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: sto, owner: lab@example.org}
spec:
  rolls: [base]
  network: {subnet: 10.77.0.0/24}
  frontend: {vcpus: 1, memory: 64MiB, disk: 32MiB}
  nodes:
    - {name: compute, appliance: compute, count: 1, vcpus: 1, memory: 64MiB, disk: 32MiB, install: image}
  sharedStorage: 16MiB
Y
        big) cat > "$d/repo/clusters/big.yaml" <<Y ;;
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: big, owner: lab@example.org}
spec:
  rolls: [base]
  network: {subnet: 10.79.0.0/24}
  frontend: {vcpus: 1, memory: 64MiB, disk: 1GiB}
Y
        kil*) # kil-later: not active yet (keeps the repository non-empty); kil: active
            cat > "$d/repo/clusters/kil.yaml" <<Y
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: kil, owner: lab@example.org}
spec:
$([ "$c" = kil-later ] && printf '  window:\n    start: 2031-01-01T00:00:00Z\n')
  rolls: [base]
  network: {subnet: 10.78.0.0/24}
  frontend: {vcpus: 1, memory: 64MiB, disk: 16MiB}
  sharedStorage: 8MiB
Y
            ;;
        esac
    done
    tar -C "$d" -c repo | run $ST "mkdir -p $W && rm -rf $W/repo && tar -C $W -x" || fail "copy repo"
    rm -rf "$d"
}
repo sto
V validate || fail "vcm validate"

# ---------------------------------------------------------------- errors --
note "errors: no VG, no configfs, no target modules (each names host, resource and cause)"
run $ST "rmdir $CFS/iscsi 2>/dev/null; modprobe -r iscsi_target_mod target_core_iblock target_core_pscsi target_core_file target_core_user target_core_mod 2>/dev/null
         mountpoint -q /sys/kernel/config && umount /sys/kernel/config; vgs $VG 2>/dev/null && exit 1; true" ||
    fail "$ST already has VG $VG"
out=$(V apply 2>&1) && fail "apply without a VG succeeded: $out"
grep -q "host $ST: volume group $VG not found" <<< "$out" || fail "no located VG error: $out"
run $ST "pvcreate -qy $DISK && vgcreate -q $VG $DISK && lvcreate -qy -n img-compute -L 8M $VG &&
         yes VCM-IMAGE-COMPUTE | head -c 8388608 > /dev/$VG/img-compute && sync" || fail "VG and image on $ST"
out=$(V apply 2>&1) && fail "apply without configfs succeeded: $out"
grep -q "host $ST: iscsi-target $IQN: configfs is not mounted at /sys/kernel/config" <<< "$out" ||
    fail "no located configfs error: $out"
run $ST "modprobe configfs && mount -t configfs configfs /sys/kernel/config"
out=$(V apply 2>&1) && fail "apply without the target modules succeeded: $out"
grep -q "host $ST: iscsi-target $IQN: the kernel's iSCSI target is not loaded" <<< "$out" ||
    fail "no located module error: $out"
echo "$out" | grep -E 'FAILED: host' | sed 's/^/    /' | sort -u | head -4

# ---------------------------------------------------------------- create --
note "create: LVs, exports, domains on $VM attached over iSCSI"
run $ST "modprobe -a target_core_mod target_core_iblock iscsi_target_mod" || fail "modprobe on $ST"
V apply > /dev/null 2>&1 || V apply || fail "apply did not converge"
[ "$(changes sto)" = 0 ] || fail "sto not converged: $(V plan)"
run $ST "lvs --noheadings -o lv_name,lv_tags $VG" | tee -a /dev/stderr | has "sto-compute-0 .*vcm:sto" ||
    fail "no tagged LV"
lio_inventory $ST | tee "$VCM_LAB_STATE/stor-lio.1"
grep -q "^target $IQN enable=1" "$VCM_LAB_STATE/stor-lio.1" || fail "target not enabled"
grep -q "portal $STIP:3260" "$VCM_LAB_STATE/stor-lio.1" || fail "no portal"
grep -q "acl $INIT_VM lun_0 lun_1 lun_2" "$VCM_LAB_STATE/stor-lio.1" || fail "no ACL for $VM"
for d in sto-frontend sto-compute-0; do
    s=$("$LAB" exec virsh -c "$URI" domstate $d) || fail "virsh domstate $d"
    [ "$s" = running ] || fail "$d is $s on $VM, not running"
done
"$LAB" exec virsh -c "$URI" dumpxml sto-compute-0 | grep -A6 "protocol='iscsi'" | tee -a /dev/stderr |
    has "<iqn name='$INIT_VM'/>" || fail "domain disk without vcm's initiator"

note "the node's disk starts as a copy of the image volume"
run $ST "dd if=/dev/$VG/sto-compute-0 iflag=direct bs=1M count=1 status=none | head -c 18" | has VCM-IMAGE-COMPUTE ||
    fail "sto-compute-0 is not a copy of img-compute"

note "$VM's initiator ($INIT_VM) writes and reads LUN 2; $OUT's is refused"
run $VM "yes $MARK | head -c 1048576 > /tmp/pat && qemu-img convert -n -f raw -O raw /tmp/pat '$(src 2 "$INIT_VM")'" ||
    fail "write over iSCSI from $VM"
want=$(run $VM "sha256sum < /tmp/pat")
readback() {
    run $VM "qemu-img convert -f raw -O raw '$(src 2 "$INIT_VM")' /tmp/back && head -c 1048576 /tmp/back | sha256sum; rm -f /tmp/back"
}
got=$(readback) || fail "read over iSCSI from $VM"
[ "$got" = "$want" ] || fail "read back $got, wrote $want"
# O_DIRECT: LIO writes the device under lab1's page cache, which may hold what dd read before.
[ "$(run $ST "dd if=/dev/$VG/sto-compute-0 iflag=direct bs=1M count=1 status=none | sha256sum")" = "$want" ] ||
    fail "the LV on $ST does not hold what $VM wrote"
if out=$(run $OUT "qemu-img convert -f raw -O raw '$(src 2 "$INIT_OUT")' /tmp/x" 2>&1); then
    fail "$OUT's initiator got in: $out"
fi
grep -q 'Authorization failure' <<< "$out" || fail "refusal was not an authorization failure: $out"
note "refused: $(grep -o 'Status: Authorization failure.*' <<< "$out")"

# ---------------------------------------------------------- coexistence --
note "targetcli: its own objects next to vcm's; both in the saved file; targetctl restore"
run $ST "targetcli /backstores/ramdisk create foreign 1M && targetcli /iscsi create iqn.2026-11.test.vcm:foreign && targetcli saveconfig" > /dev/null ||
    fail "targetcli could not add its objects"
V apply > /dev/null || fail "apply next to targetcli's objects"
run $ST "targetcli ls" > "$VCM_LAB_STATE/stor-targetcli.1" || fail "targetcli ls"
cat "$VCM_LAB_STATE/stor-targetcli.1"
for line in "vcm.sto.compute-0 .*\[/dev/$VG/sto-compute-0" "o- $IQN " "o- $INIT_VM .*\[Mapped LUNs: 3\]" \
            "lun2 .*block/vcm.sto.compute-0" "o- $STIP:3260" "no-gen-acls, no-auth" "o- foreign " \
            "iqn.2026-11.test.vcm:foreign"; do
    grep -q -- "$line" "$VCM_LAB_STATE/stor-targetcli.1" || fail "targetcli ls lacks: $line"
done
run $ST "python3 -c 'import json; d=json.load(open(\"/etc/rtslib-fb-target/saveconfig.json\"));
print(sorted(s[\"name\"] for s in d[\"storage_objects\"])); print(sorted(t[\"wwn\"] for t in d[\"targets\"]))'" |
    tee -a /dev/stderr | has "'foreign', 'vcm.sto.compute-0', 'vcm.sto.frontend', 'vcm.sto.shared'" ||
    fail "saved file lacks an object"
run $ST "stat -c %a /etc/rtslib-fb-target/saveconfig.json" | has '^600$' || fail "saved file not 0600"
lio_inventory $ST > "$VCM_LAB_STATE/stor-lio.before"
run $ST "targetctl clear && test ! -d $CFS/iscsi/$IQN && targetctl restore" || fail "targetctl clear/restore"
lio_inventory $ST | sed 's/iblock_[0-9]*/iblock_N/' | sort > "$VCM_LAB_STATE/stor-lio.after"
sed 's/iblock_[0-9]*/iblock_N/' "$VCM_LAB_STATE/stor-lio.before" | sort |
    diff - "$VCM_LAB_STATE/stor-lio.after" || fail "targetctl restore did not rebuild the same exports"
[ "$(changes sto)" = 0 ] || fail "vcm sees changes after targetctl restore: $(V plan)"
got=$(readback) && [ "$got" = "$want" ] || fail "data after targetctl restore: $got"

# ------------------------------------------------- restart and re-export --
note "a vcm restart changes nothing; a lost export is re-made; the data stays"
V apply > "$VCM_LAB_STATE/stor-restart.log" || fail "apply after restart: $(cat "$VCM_LAB_STATE/stor-restart.log")"
tail -2 "$VCM_LAB_STATE/stor-restart.log"
[ "$(changes sto)" = 0 ] || fail "not converged after restart"
run $ST "targetctl clear" || fail "targetctl clear"
V apply > /dev/null || fail "re-export"
[ "$(changes sto)" = 0 ] || fail "not converged after re-export"
got=$(readback) && [ "$got" = "$want" ] || fail "data after re-export: $got"

note "a half-made target (disabled, portal gone) is repaired"
run $ST "echo 0 > $CFS/iscsi/$IQN/tpgt_1/enable && rmdir $CFS/iscsi/$IQN/tpgt_1/np/$STIP:3260" || fail "break target"
out=$(V plan) || true
has "update iscsi-target $IQN" <<< "$out" || fail "plan does not repair the target: $out"
V apply > /dev/null || fail "repair"
lio_inventory $ST | has "portal $STIP:3260" || fail "portal not repaired"
[ "$(changes sto)" = 0 ] || fail "not converged after repair"

# --------------------------------------------------------------- full VG --
note "a cluster that does not fit: clear error, nothing made; sto goes on"
repo sto big
out=$(V apply 2>&1) && fail "apply of a cluster bigger than the VG succeeded"
has "FAILED: host $ST: volume big-frontend: volume group $VG has .* free but cluster big needs" <<< "$out" ||
    fail "no clear error for the full VG: $out"
[ -z "$(run $ST "lvs --noheadings -o lv_name -S 'tags=vcm:big' $VG")" ] || fail "an LV of big was made"
lio_inventory $ST | has ':big' && fail "an export of big was made"
[ "$(changes sto)" = 0 ] || fail "sto disturbed by big"
repo sto

# --------------------------------------------------------------- release --
note "release: exports go, LVs are wiped and removed; the extents read no trace"
n=$(run $ST "dd if=/dev/$VG/sto-compute-0 iflag=direct bs=1M status=none | grep -a -c $MARK") || true
[ "${n:-0}" -gt 0 ] || fail "control: the node's data is not on its LV"
extents=$(lv_extents $ST $VG sto-compute-0)
repo kil-later
V apply > /dev/null || fail "release"
[ -z "$(lio_inventory $ST | grep -v foreign)" ] || fail "exports left: $(lio_inventory $ST)"
left=$(run $ST "lvs --noheadings -o lv_name $VG" | grep -v img-compute || true)
[ -z "${left// /}" ] || fail "LVs left: $left"
probe_extents $ST $VG "$extents" $MARK > "$VCM_LAB_STATE/stor-probe" || true
[ "$(cat "$VCM_LAB_STATE/stor-probe")" = 0 ] || fail "old data on the freed extents $extents: $(cat "$VCM_LAB_STATE/stor-probe")"
note "a new LV on the freed extents ($extents): 0 copies of the node's data"

# ---------------------------------------------------------------- kill -9 --
note "kill -9 of vcm at points during export creation, then one more pass"
repo kil
# Each run is killed as the step named starts (plus 0-0.2 s); the next run resumes what is left,
# so the kills land in successive pieces of the export: LV, target, LUNs, ACL.
k=0
for at in 'volume/kil-frontend' 'iscsi-target/' 'iscsi-lun/kil-shared' 'iscsi-lun/kil-frontend' \
          'iscsi-acl/' 'iscsi-target/' 'iscsi-lun/'; do
    k=$((k + 1))
    run $ST "cd $W && ($VCM apply --parallel 2 --source repo --state-dir state > kill.$k.log 2>&1 & p=\$!
        while kill -0 \$p 2>/dev/null && ! grep -q '$at.*start\.\.\.\$' kill.$k.log; do sleep 0.02; done
        sleep 0.\$((RANDOM % 3)); kill -9 \$p 2>/dev/null && echo killed; wait \$p 2>/dev/null; true)" > "$VCM_LAB_STATE/stor-kill.$k"
    echo "    kill $k at '$at': $(grep -c killed "$VCM_LAB_STATE/stor-kill.$k") kill, now $(lio_inventory $ST | grep -vc foreign) vcm LIO lines, $(run $ST "lvs --noheadings -S 'tags=vcm:kil' $VG | wc -l") LVs"
done
V apply > /dev/null || V apply || fail "no convergence after the kills"
[ "$(changes kil)" = 0 ] || fail "kil not converged: $(V plan)"
lio_inventory $ST | tee "$VCM_LAB_STATE/stor-lio.kil"
grep -q empty-hba "$VCM_LAB_STATE/stor-lio.kil" && fail "an orphaned backstore HBA"
[ "$(grep -c '^backstore .*vcm\.kil\.' "$VCM_LAB_STATE/stor-lio.kil")" = 2 ] || fail "backstores are not exactly kil's two"
[ "$(grep -c '^  lun_' "$VCM_LAB_STATE/stor-lio.kil")" = 2 ] || fail "LUNs are not exactly kil's two"
[ "$(run $ST "lvs --noheadings -o lv_name -S 'tags=vcm:kil' $VG" | wc -l)" = 2 ] || fail "LVs are not exactly kil's two"

note "release everything"
repo
V apply --allow-empty > /dev/null || fail "final release"
[ -z "$(lio_inventory $ST | grep -v foreign)" ] || fail "exports left: $(lio_inventory $ST)"
run $ST "lvs --noheadings -o lv_name,lv_tags $VG" | grep vcm && fail "LVs left"
note "ok"
