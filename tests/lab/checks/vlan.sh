#!/bin/bash
# Two hosts on VLAN 42 reach each other across the switch; a host on VLAN 43 with
# an address in the same subnet gets nothing. Needs hosts lab1..lab3.
. "$(dirname "$0")/common.sh"

vlan_up() { # HOST VID ADDR
    run "$1" "modprobe 8021q && ip link add link eth0 name eth0.$2 type vlan id $2 &&
              ip addr add $3/24 dev eth0.$2 && ip link set eth0.$2 up"
}
cleanup() {
    run lab1 'ip link del eth0.42' 2> /dev/null || true
    run lab2 'ip link del eth0.42' 2> /dev/null || true
    run lab3 'ip link del eth0.43' 2> /dev/null || true
}
trap cleanup EXIT

vlan_up lab1 42 10.99.42.11
vlan_up lab2 42 10.99.42.12
vlan_up lab3 43 10.99.42.13
run lab1 'cat /proc/net/vlan/eth0.42' | grep -q 'VID: 42' || fail "lab1 has no VLAN 42 device"

note "lab1 -> lab2 on VLAN 42"
run lab1 'busybox ping -c 3 -W 3 10.99.42.12' || fail "lab1 cannot reach lab2 on VLAN 42"
run lab2 'busybox ping -c 2 -W 3 10.99.42.11' > /dev/null || fail "lab2 cannot reach lab1 on VLAN 42"
# The frames really were tagged: lab2 counted them on its VLAN device.
rx=$(run lab2 'cat /sys/class/net/eth0.42/statistics/rx_packets')
[ "$rx" -ge 3 ] || fail "lab2's eth0.42 received only $rx packets"

note "lab1 -> lab3 (VLAN 43) must get nothing"
if run lab1 'busybox ping -c 2 -W 2 10.99.42.13'; then fail "VLAN 42 reached a host on VLAN 43"; fi
if run lab3 'busybox ping -c 2 -W 2 10.99.42.11'; then fail "VLAN 43 reached a host on VLAN 42"; fi
rx3=$(run lab3 'cat /sys/class/net/eth0.43/statistics/rx_packets')
[ "$rx3" = 0 ] || fail "lab3's eth0.43 received $rx3 packets from VLAN 42"
note "ok"
