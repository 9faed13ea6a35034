#!/bin/bash
# The netlink provider with real domains (issue #7): libvirtd runs inside lab1 (on private
# state, guest/start-libvirtd.sh) and vcm, inside lab1 too, makes the cluster's VLAN link and
# bridge and then starts real QEMU (TCG) domains of the tiny guest whose NICs libvirt puts on
# them (<interface type='bridge'>): nodes on the cluster's bridge, the frontend's second NIC on
# the site's external bridge. Releasing the cluster removes the domains, then the bridge and
# the link; the external bridge stays. (The tiny guest configures no network, so traffic is
# shown with veth endpoints in lab/net and lab/net_hosts.)
. "$(dirname "$0")/common.sh"
NT_SITE=nettest3
. "$(dirname "$0")/net_lib.sh"

TINY=/var/lib/vcm/images/tiny
[ -e $TINY/vmlinuz ] || "$SRC/scripts/build-tiny-guest.sh" > /dev/null
cleanup() {
    # vcm's own release first (domains, then links), then whatever is left.
    run lab1 "[ -d $NT_DIR/repo ] && rm -f $NT_DIR/repo/clusters/*.yaml && touch $NT_DIR/repo/clusters/.keep &&
        $VCM apply --allow-empty --source $NT_DIR/repo --state-dir $NT_DIR/state" > /dev/null 2>&1 || true
    # the file pool vcm defined in this guest's private libvirtd, in the directory below
    run lab1 "virsh pool-destroy vcm; virsh pool-undefine vcm" > /dev/null 2>&1 || true
    nt_cleanup_host lab1
}
trap cleanup EXIT
cleanup > /dev/null 2>&1

note "libvirtd on lab1 (private state), the tun device for its taps, the external bridge"
run lab1 "$(dirname "$LAB")/guest/start-libvirtd.sh" > /dev/null || fail "libvirtd did not start on lab1"
run lab1 'modprobe tun && modprobe 8021q && modprobe bridge && [ -c /dev/net/tun ] &&
    ip link add vntext0 type bridge && ip link set vntext0 up'

nt_repo lab1 "apiVersion: vcm/v1
kind: Site
metadata: {name: nettest3}
spec:
  network: {backend: vlan, vlanRange: {from: 3920, to: 3929}}
  storage: {backend: file}
  hosts:
    - name: lab1
      roles: [gateway, vm-server]
      libvirt: qemu:///system
      domainType: qemu
      capacity: {vcpus: 8, memory: 2GiB}
      poolPath: $NT_DIR/pool
      trunk: eth0
      external: vntext0
  images:
    frontend: {kernel: $TINY/vmlinuz, initrd: $TINY/initrd.img, cmdline: console=ttyS0 no_timer_check}
    compute: {kernel: $TINY/vmlinuz, initrd: $TINY/initrd.img, cmdline: console=ttyS0 no_timer_check}"
run lab1 "cat > $NT_DIR/repo/clusters/alpha.yaml" <<'EOC'
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: alpha, owner: ops@example.org}
spec:
  rolls: [base]
  network: {vlan: auto, subnet: 10.77.0.0/24}
  frontend: {vcpus: 1, memory: 48MiB, disk: 16MiB, external: true}
  nodes:
    - {name: compute, appliance: compute, count: 1, vcpus: 1, memory: 48MiB, disk: 16MiB}
EOC

note "apply: link and bridge, then two running TCG domains with their NICs on them"
out=$(nt_vcm lab1 apply 2>&1) || { echo "$out"; fail "apply failed"; }
grep -qE '^  alpha +Ready' <<< "$out" || { echo "$out"; fail "alpha is not Ready"; }
nt_expect_link lab1 vcmv3920 vlan eth0 3920 vcmbr3920 alpha
nt_expect_link lab1 vcmbr3920 bridge - - - alpha
running=$(run lab1 'virsh -q list --state-running --name' | sort | tr '\n' ' ')
[ "$running" = "alpha-compute-0 alpha-frontend " ] || fail "running domains: $running"
nics=$(run lab1 'for d in alpha-frontend alpha-compute-0; do virsh -q domiflist $d | awk -v d=$d "{print d, \$3}"; done')
note "$(tr '\n' ';' <<< "$nics")"
[ "$nics" = "alpha-frontend vcmbr3920
alpha-frontend vntext0
alpha-compute-0 vcmbr3920" ] || fail "domain NICs are not on the cluster's and the external bridge: $nics"
# The kernel agrees: the domains' taps are ports of those bridges, next to vcm's VLAN link.
ports=$(run lab1 'bridge link' | awk '{sub(":", "", $2); sub("@.*", "", $2); for (i = 1; i < NF; i++) if ($i == "master") print $(i + 1), $2}' | sort)
[ "$(grep -c '^vcmbr3920 vnet' <<< "$ports")" = 2 ] || fail "bridge ports: $ports"
[ "$(grep -c '^vntext0 vnet' <<< "$ports")" = 1 ] || fail "external bridge ports: $ports"
grep -q '^vcmbr3920 vcmv3920$' <<< "$ports" || fail "the VLAN link is not a port: $ports"

note "release: domains, then bridge and link, go; the external bridge stays"
rm_out=$(run lab1 "rm $NT_DIR/repo/clusters/alpha.yaml && $VCM apply --allow-empty --source $NT_DIR/repo --state-dir $NT_DIR/state 2>&1") ||
    { echo "$rm_out"; fail "release failed"; }
[ -z "$(run lab1 'virsh -q list --all --name')" ] || fail "domains left: $(run lab1 'virsh -q list --all --name')"
[ -z "$(nt_owned lab1 alpha)" ] || fail "links left: $(nt_owned lab1 alpha)"
nt_links lab1 | grep -q '^vntext0 bridge UP master=- parent=- vid=- alias=-$' || fail "the external bridge changed: $(nt_links lab1)"
note "ok"
