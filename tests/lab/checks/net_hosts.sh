#!/bin/bash
# The netlink provider on two hosts (issue #7): vcm runs on the manager side of the lab switch
# (inside the session's namespace, as the cluster manager would) and reaches lab1 and lab2
# through `vcm agent` over ssh (`agent:` in site.yaml), which runs the provider against each
# host's own kernel. Domains are on libvirt's test driver in the manager's vcm process (no
# nested QEMU here), so veth endpoints in namespaces stand where the domains' NICs would be, on
# the bridges vcm made on each host. Shown here:
#  - two clusters with nodes on both hosts: each host gets each cluster's VLAN link and bridge;
#    endpoints of cluster A on lab1 and lab2 reach each other across the switch, B's reach each
#    other and none of A's (same subnet);
#  - an unmarked VLAN link and bridge with vcm-like names on lab2 survive every pass;
#  - releasing A removes exactly A's links and bridges on both hosts; B keeps working;
#  - kill -9 of the manager's apply while it creates A's network, then apply: converged on both
#    hosts without duplicates.
. "$(dirname "$0")/common.sh"
NT_SITE=nettest2
. "$(dirname "$0")/net_lib.sh"

work=$(mktemp -d /tmp/vcm-nettest2.XXXXXX)
LOOK="vcmv3950 vcmbr3950"
cleanup() {
    nt_cleanup_host lab1
    nt_cleanup_host lab2 $LOOK
    rm -rf "$work"
}
trap cleanup EXIT
cleanup > /dev/null 2>&1
mkdir -p "$work/repo/clusters" "$work/repo/rolls"

# The repository lives on the machine: vcm runs there, inside the lab's namespace.
cp "$SRC/examples/quickstart/rolls/base.yaml" "$work/repo/rolls/"
cat > "$work/repo/site.yaml" <<EOS
apiVersion: vcm/v1
kind: Site
metadata: {name: nettest2}
spec:
  network: {backend: vlan, vlanRange: {from: 3910, to: 3919}}
  storage: {backend: file}
  hosts:
    - name: lab1
      roles: [gateway, vm-server]
      libvirt: test:///default
      agent: [ssh, lab1, $VCM, agent]
      capacity: {vcpus: 8, memory: 8GiB}
      trunk: eth0
      external: vntext0
    - name: lab2
      roles: [vm-server]
      libvirt: test:///default
      agent: [ssh, lab2, $VCM, agent]
      capacity: {vcpus: 8, memory: 8GiB}
      trunk: eth0
  images:
    frontend: {kernel: /boot/vmlinuz}
    compute: {kernel: /boot/vmlinuz}
EOS
cluster() { # NAME
    cat > "$work/repo/clusters/$1.yaml" <<EOC
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $1, owner: ops@example.org}
spec:
  rolls: [base]
  network: {vlan: auto, subnet: 10.77.0.0/24}
  frontend: {vcpus: 1, memory: 64MiB, disk: 16MiB, external: true}
  nodes:
    - {name: compute, appliance: compute, count: 2, vcpus: 1, memory: 64MiB, disk: 16MiB}
EOC
}
v() { "$LAB" exec "$VCM" "$@" --source "$work/repo" --state-dir "$work/state"; }
# plan exits 2 when there are changes: always, as domains live in the test driver.
vplan() { v plan -o json || [ $? = 2 ]; }
apply() {
    local out rc=0
    out=$(v apply --parallel 4 2>&1) || rc=$?
    [ $rc = 0 ] || { echo "$out" >&2; fail "vcm apply exited $rc"; }
    echo "$out"
}
both() { nt_links lab1 | sed 's/^/lab1 /'; nt_links lab2 | sed 's/^/lab2 /'; }

note "look-alikes on lab2: an unmarked VLAN link and bridge with vcm-like names; lab1: the external bridge"
run lab1 'modprobe 8021q && modprobe bridge && ip link add vntext0 type bridge && ip link set vntext0 up'
run lab2 'modprobe 8021q && modprobe bridge &&
    ip link add link eth0 name vcmv3950 type vlan id 3950 && ip link add vcmbr3950 type bridge &&
    ip link set vcmv3950 master vcmbr3950 && ip link set vcmv3950 up && ip link set vcmbr3950 up'
look_before=$(both | grep -E ' (vcmv3950|vcmbr3950|vntext0) ')
look_same() {
    [ "$(both | grep -E ' (vcmv3950|vcmbr3950|vntext0) ')" = "$look_before" ] || fail "$1: look-alikes changed"
}

note "clusters alpha and beta, a frontend and two nodes each, spread over lab1 and lab2"
cluster alpha
cluster beta
v validate
# Both hosts run nodes of both clusters (placement spreads a cluster's nodes).
hosts=$(vplan | python3 -c '
import json, sys
s = set()
for c in json.load(sys.stdin)["changes"]:
    if c["kind"] == "domain":
        s.add((c["cluster"], c["host"]))
print(" ".join(sorted(c + "@" + h for c, h in s)))')
[ "$hosts" = "alpha@lab1 alpha@lab2 beta@lab1 beta@lab2" ] || fail "nodes are not spread over both hosts: $hosts"
out=$(apply)
for h in lab1 lab2; do
    nt_expect_link $h vcmv3910 vlan eth0 3910 vcmbr3910 alpha
    nt_expect_link $h vcmbr3910 bridge - - - alpha
    nt_expect_link $h vcmv3911 vlan eth0 3911 vcmbr3911 beta
    nt_expect_link $h vcmbr3911 bridge - - - beta
done
look_same "first apply"
plan=$(vplan | python3 -c '
import json, sys
print(" ".join(c["name"] + "@" + c["host"] for c in json.load(sys.stdin)["changes"] if c["kind"] in ("vlan-link", "bridge")))')
[ -z "$plan" ] || fail "network changes left after apply: $plan"

note "traffic across the switch: alpha lab1 <-> alpha lab2, beta lab1 <-> beta lab2, beta never reaches alpha"
nt_endpoint lab1 ntnsa1 vcmbr3910 10.77.0.11
nt_endpoint lab2 ntnsa2 vcmbr3910 10.77.0.12
nt_endpoint lab1 ntnsb1 vcmbr3911 10.77.0.13
nt_endpoint lab2 ntnsb2 vcmbr3911 10.77.0.14
nt_ping lab1 ntnsa1 10.77.0.12 || fail "alpha on lab1 cannot reach alpha on lab2"
nt_ping lab2 ntnsa2 10.77.0.11 || fail "alpha on lab2 cannot reach alpha on lab1"
nt_ping lab1 ntnsb1 10.77.0.14 || fail "beta on lab1 cannot reach beta on lab2"
rx=$(run lab2 'cat /sys/class/net/vcmv3910/statistics/rx_packets')
[ "$rx" -ge 2 ] || fail "lab2's vcmv3910 received only $rx packets"
nt_ping lab1 ntnsb1 10.77.0.12 && fail "beta on lab1 reached alpha on lab2"
nt_ping lab2 ntnsb2 10.77.0.11 && fail "beta on lab2 reached alpha on lab1"
nt_ping lab1 ntnsb1 10.77.0.11 && fail "beta on lab1 reached alpha on lab1"

note "release alpha: exactly its links and bridges go, on both hosts; beta keeps working"
before=$(both)
rm "$work/repo/clusters/alpha.yaml"
apply > /dev/null
after=$(both)
changes=$(diff <(echo "$before") <(echo "$after") || true)
gone=$(sed -n 's/^< //p' <<< "$changes" | awk '{print $1 ":" $2}' | sort | tr '\n' ' ')
[ "$gone" = "lab1:vcmbr3910 lab1:vcmv3910 lab2:vcmbr3910 lab2:vcmv3910 " ] || fail "release removed: $gone"
[ -z "$(sed -n 's/^> //p' <<< "$changes")" ] || fail "release changed or added: $changes"
nt_ping lab1 ntnsb1 10.77.0.14 || fail "beta lost its way across the switch after alpha's release"
look_same "release"

note "kill -9 of the manager's apply while it creates alpha's network, then apply: converged, no duplicates"
# Kill point k: right after the k-th network step started (as apply's progress says), so kills
# land inside and between the steps that make links, marks and ports.
for k in 1 2 3 4; do
    cluster alpha
    "$LAB" exec sh -c "$VCM apply --parallel 4 --source $work/repo --state-dir $work/state > $work/killed.log 2>&1 &
        pid=\$!
        while kill -0 \$pid 2> /dev/null &&
              [ \$(grep -c -E 'create (vlan-link|bridge)/.*: start' $work/killed.log) -lt $k ]; do sleep 0.02; done
        kill -9 \$pid; wait \$pid; true" 2> /dev/null || true
    delay="network step $k started"
    left=$(both | grep -E ' vcm(v|br)3910 ' | awk '{print $1 ":" $2 ":" $4 ":" (($NF ~ /alias=vcm:/) ? "marked" : "unmarked")}' | tr '\n' ' ' || true)
    apply > /dev/null
    for h in lab1 lab2; do
        nt_expect_link $h vcmv3910 vlan eth0 3910 vcmbr3910 alpha
        nt_expect_link $h vcmbr3910 bridge - - - alpha
        [ "$(nt_owned $h alpha | wc -l)" = 2 ] || fail "$h: alpha owns: $(nt_owned $h alpha)"
        [ "$(nt_links $h | grep -c -E '^vcm(v|br)39[0-9][0-9] ')" = "$([ $h = lab2 ] && echo 6 || echo 4)" ] ||
            fail "$h: unexpected links: $(nt_links $h)"
    done
    note "  killed after ${delay}, it had left: ${left:-nothing}; converged"
    look_same "kill at $delay"
    rm "$work/repo/clusters/alpha.yaml"
    apply > /dev/null
done
note "ok"
