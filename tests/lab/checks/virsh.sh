#!/bin/bash
# From the manager side (the namespace), virsh over qemu+ssh reaches libvirtd
# running inside lab3 (started on its private state by guest/start-libvirtd.sh).
. "$(dirname "$0")/common.sh"
H=lab3
run $H "$(dirname "$LAB")/guest/start-libvirtd.sh" || fail "libvirtd did not start on $H"
uri="qemu+ssh://root@$("$LAB" ip $H)/system?keyfile=$("$LAB" key)&no_verify=1"
note "virsh -c '$uri' list"
"$LAB" exec virsh -c "$uri" list || fail "virsh list over qemu+ssh failed"
name=$("$LAB" exec virsh -c "$uri" hostname)
[ "$name" = "$H" ] || fail "virsh reached '$name', not $H"
# The guest's own libvirtd answered, on its private (empty) state.
"$LAB" exec virsh -c "$uri" list --all --name | grep -q . && fail "host domains leaked into $H's libvirtd"
note "ok"
