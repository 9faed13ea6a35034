#!/bin/bash
# LIO by plain configfs writes (DESIGN §5b) on lab1: one LUN from an LV, an ACL for
# lab2's initiator name. lab2 logs in with libiscsi (iscsi-ls, iscsi-inq) and reads
# the data back with QEMU's iSCSI driver (qemu-img); an initiator name not in the
# ACL is refused (tried from lab3). Needs lab1 with an extra disk (/dev/vda).
. "$(dirname "$0")/common.sh"
T=lab1 DISK=/dev/vda VG=vcmlab_iscsi
TIP=$("$LAB" ip $T)
TARGET=iqn.2026-11.test.vcm:lab1.lun0
ALLOWED=iqn.2026-11.test.vcm:lab2
INTRUDER=iqn.2026-11.test.vcm:intruder

teardown() { # exact reverse of the setup; each step only if its object exists
    run $T bash -s <<SH > /dev/null 2>&1 || true
cd /sys/kernel/config/target 2>/dev/null || exit 0
tpg=iscsi/$TARGET/tpgt_1
[ -e \$tpg/enable ] && echo 0 > \$tpg/enable
rm -f \$tpg/acls/$ALLOWED/lun_0/lun0
[ -d \$tpg/acls/$ALLOWED/lun_0 ] && rmdir \$tpg/acls/$ALLOWED/lun_0
[ -d \$tpg/acls/$ALLOWED ] && rmdir \$tpg/acls/$ALLOWED
rm -f \$tpg/lun/lun_0/lun0
[ -d \$tpg/lun/lun_0 ] && rmdir \$tpg/lun/lun_0
[ -d \$tpg/np/$TIP:3260 ] && rmdir \$tpg/np/$TIP:3260
[ -d \$tpg ] && rmdir \$tpg
[ -d iscsi/$TARGET ] && rmdir iscsi/$TARGET
[ -d core/iblock_0/lun0 ] && rmdir core/iblock_0/lun0
[ -d core/iblock_0 ] && rmdir core/iblock_0
vgremove -y $VG; pvremove -y $DISK
SH
}
trap teardown EXIT

note "target on $T ($TIP)"
run $T bash -s <<SH || fail "target setup on $T"
set -eux
modprobe -a target_core_mod target_core_iblock iscsi_target_mod
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
pvcreate -y $DISK
vgcreate $VG $DISK
lvcreate -y -n lun0 -L 16M $VG
# 1 MiB of data the initiator must read back.
head -c 1048576 /dev/urandom > /tmp/pattern
dd if=/tmp/pattern of=/dev/$VG/lun0 bs=1M oflag=direct status=none
cd /sys/kernel/config/target
so=core/iblock_0/lun0
mkdir -p \$so
echo /dev/$VG/lun0 > \$so/udev_path
echo udev_path=/dev/$VG/lun0 > \$so/control
echo readonly=0 > \$so/control
echo 1 > \$so/enable
echo vcmlab-lun0 > \$so/wwn/vpd_unit_serial
tpg=iscsi/$TARGET/tpgt_1
mkdir -p \$tpg
mkdir \$tpg/lun/lun_0
ln -s /sys/kernel/config/target/\$so \$tpg/lun/lun_0/lun0
mkdir \$tpg/np/$TIP:3260
mkdir -p \$tpg/acls/$ALLOWED/lun_0
ln -s /sys/kernel/config/target/\$tpg/lun/lun_0 \$tpg/acls/$ALLOWED/lun_0/lun0
echo 0 > \$tpg/attrib/authentication
echo 0 > \$tpg/attrib/generate_node_acls
echo 1 > \$tpg/enable
SH
want=$(run $T 'sha256sum < /tmp/pattern')

note "lab2 logs in as $ALLOWED"
run lab2 "iscsi-ls -i $ALLOWED -s iscsi://$TIP" | tee /dev/stderr | grep -q "$TARGET" ||
    fail "iscsi-ls does not list $TARGET"
run lab2 "iscsi-inq -i $ALLOWED iscsi://$TIP/$TARGET/0" | grep -q 'LIO-ORG' ||
    fail "iscsi-inq on LUN 0 failed"
src='json:{"driver":"raw","file":{"driver":"iscsi","transport":"tcp","portal":"'$TIP':3260","target":"'$TARGET'","lun":0,"initiator-name":"'$ALLOWED'"}}'
run lab2 "qemu-img convert -f raw -O raw '$src' /tmp/lun0.img" || fail "qemu-img could not read the LUN"
got=$(run lab2 'head -c 1048576 /tmp/lun0.img | sha256sum; rm -f /tmp/lun0.img')
[ "$got" = "$want" ] || fail "data read over iSCSI differs: $got != $want"
note "lab2 read back the 1 MiB lab1 wrote ($want)"

note "lab3 as $INTRUDER must be refused"
if out=$(run lab3 "iscsi-inq -i $INTRUDER iscsi://$TIP/$TARGET/0" 2>&1); then
    fail "an initiator outside the ACL got in: $out"
fi
echo "$out"
grep -qi 'authori' <<< "$out" || fail "refusal was not an authorization failure: $out"
note "ok"
