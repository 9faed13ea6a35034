# shellcheck shell=bash
# Sourced by the storage checks (stor-iscsi.sh, tests/e2e), after common.sh: what LIO and LVM
# hold on a storage host, read straight from configfs and lvm2, not through vcm.
CFS=/sys/kernel/config/target

# lio_inventory HOST: vcm's objects in configfs on HOST, one per line (targets, portals, LUNs,
# ACLs, backstores, HBAs left empty).
lio_inventory() {
    run "$1" "cd $CFS 2>/dev/null || exit 0
        for t in iscsi/iqn.2026-01.org.vcm:*; do [ -d \"\$t\" ] || continue
            echo target \${t#iscsi/} enable=\$(cat \$t/tpgt_1/enable 2>/dev/null)
            ls \$t/tpgt_1/np 2>/dev/null | sed 's/^/  portal /'
            for l in \$t/tpgt_1/lun/lun_*; do [ -d \"\$l\" ] && echo \"  \${l##*/} -> \$(readlink \$l/* | sed 's|.*/||')\"; done
            for a in \$t/tpgt_1/acls/*; do [ -d \"\$a\" ] && echo \"  acl \${a##*/} \$(ls \$a | grep ^lun_ | tr '\n' ' ')\"; done
        done
        for b in core/iblock_*/vcm.*; do [ -d \"\$b\" ] && echo \"backstore \${b#core/} \$(cat \$b/udev_path)\"; done
        for h in core/iblock_*; do [ -d \"\$h\" ] && [ -z \"\$(ls -d \$h/*/ 2>/dev/null)\" ] && echo \"empty-hba \$h\"; done
        true"
}

# lv_extents HOST VG LV: where LV lies on its PVs, as "/dev/vda:2-9" or, for an LV grown past a
# neighbour, several such ranges separated by spaces ("/dev/vda:3-4 /dev/vda:9-9").
lv_extents() {
    local extents seg
    extents=$(run "$1" "lvs --noheadings -o seg_pe_ranges $2/$3" | xargs)
    [ -n "$extents" ] || fail "$1: no extents for $2/$3"
    for seg in $extents; do
        [[ $seg =~ ^/dev/[^:]+:[0-9]+-[0-9]+$ ]] || fail "$1: unexpected extents of $2/$3: '$extents'"
    done
    echo "$extents"
}

# probe_extents HOST VG EXTENTS MARK: copies of MARK on a new LV made on exactly EXTENTS (from
# lv_extents), not zeroed by LVM (-Zn) and read past the page cache; the LV is removed again.
probe_extents() {
    local host=$1 vg=$2 extents=$3 mark=$4 seg range count=0
    for seg in $extents; do
        range=${seg##*:}
        count=$(( count + ${range#*-} - ${range%-*} + 1 ))
    done
    run "$host" "lvcreate -qq -y -Zn -Wn -n probe -l $count $vg $extents > /dev/null &&
         dd if=/dev/$vg/probe iflag=direct bs=1M status=none | grep -a -c $mark; lvremove -qq -y $vg/probe"
}
