#!/bin/bash
# On one host: a VG on an extra disk, a tagged LV, listed as JSON, removed.
# Needs lab2 with an extra disk (/dev/vda), as made by `lab.sh up N --disk SIZE`.
. "$(dirname "$0")/common.sh"
H=lab2 DISK=/dev/vda VG=vcmlab_lvm

cleanup() {
    run $H "vgremove -y $VG; pvremove -y $DISK" > /dev/null 2>&1 || true
}
trap cleanup EXIT

run $H "test -b $DISK" || fail "$H has no extra disk $DISK"
run $H "pvcreate -y $DISK && vgcreate $VG $DISK" || fail "pvcreate/vgcreate"
run $H "lvcreate -y -n lv0 -L 64M --addtag vcm:test $VG" || fail "lvcreate"
json=$(run $H "lvs --reportformat json --units b --nosuffix \
               -o lv_name,vg_name,lv_uuid,lv_size,lv_tags,lv_path,lv_attr $VG")
echo "$json"
python3 - "$json" "$VG" <<'PY' || fail "lvs JSON does not show the tagged LV"
import json, sys
rep = json.loads(sys.argv[1])["report"][0]["lv"]
assert len(rep) == 1, rep
lv = rep[0]
assert lv["lv_name"] == "lv0" and lv["vg_name"] == sys.argv[2], lv
assert lv["lv_tags"] == "vcm:test", lv
assert int(lv["lv_size"]) == 64 << 20, lv
assert lv["lv_attr"][4] == "a", lv  # active
PY
run $H "test -b /dev/$VG/lv0" || fail "LV device node missing"
run $H "lvremove -y $VG/lv0" || fail "lvremove"
left=$(run $H "lvs --noheadings -o lv_name $VG")
[ -z "${left// /}" ] || fail "LV still listed after lvremove: $left"
note "ok"
