# shellcheck shell=bash
# Sourced by the network provider's lab checks (net*.sh), after common.sh. vcm runs inside the
# lab guests (the build tree is visible there over 9p); repositories are written into the
# guest's own /tmp (the 9p root may show files written after boot stale).
# Needs VCM (the vcm binary, as ctest gives it) or a build in $SRC/build.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
VCM=${VCM:-$SRC/build/cli/vcm}
[ -x "$VCM" ] || fail "no vcm binary at $VCM (build first, or set VCM)"

# Everything a check makes on a host is named from here: site nettest, VLAN ids 3900..3959,
# namespaces vcmnt-*, veths vnt*, the external bridge vntext0, repos under /tmp/vcm-nettest.
NT_DIR=/tmp/vcm-nettest
NT_SITE=${NT_SITE:-nettest}

# nt_repo HOST SITE_YAML: a fresh repository on HOST with the given site.yaml and base Roll.
nt_repo() {
    local host=$1 site=$2
    run "$host" "rm -rf $NT_DIR/repo && mkdir -p $NT_DIR/repo/clusters $NT_DIR/repo/rolls $NT_DIR/state" 
    run "$host" "cat > $NT_DIR/repo/site.yaml" <<< "$site"
    run "$host" "cp $SRC/examples/quickstart/rolls/base.yaml $NT_DIR/repo/rolls/"
}

# nt_cluster HOST NAME VLAN [COUNT] [EXTERNAL]: clusters/NAME.yaml, a frontend and COUNT
# compute nodes (default 1); VLAN is auto or an id.
nt_cluster() {
    local host=$1 name=$2 vlan=$3 count=${4:-1} external=${5:-true}
    run "$host" "cat > $NT_DIR/repo/clusters/$name.yaml" <<EOC
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $name, owner: ops@example.org}
spec:
  rolls: [base]
  network: {vlan: $vlan, subnet: 10.77.0.0/24}
  frontend: {vcpus: 1, memory: 64MiB, disk: 16MiB, external: $external}
  nodes:
    - {name: compute, appliance: compute, count: $count, vcpus: 1, memory: 64MiB, disk: 16MiB}
EOC
}

nt_drop_cluster() { run "$1" "rm -f $NT_DIR/repo/clusters/$2.yaml"; }

# nt_vcm HOST ARGS...: vcm on HOST against the check's repository and state.
nt_vcm() {
    local host=$1
    shift
    run "$host" "$VCM $* --source $NT_DIR/repo --state-dir $NT_DIR/state"
}

# nt_links HOST: one line per VLAN link and bridge on HOST, sorted:
#   NAME KIND UP|DOWN master=M parent=P vid=V alias=ALIAS
nt_links() {
    run "$1" "ip -d -j link show" | python3 -c '
import json, sys
links = json.load(sys.stdin)
names = {l["ifindex"]: l["ifname"] for l in links}
for l in sorted(links, key=lambda l: l["ifname"]):
    kind = l.get("linkinfo", {}).get("info_kind")
    if kind not in ("vlan", "bridge"):
        continue
    vid = l.get("linkinfo", {}).get("info_data", {}).get("id", "-")
    parent = l.get("link", "-")
    up = "UP" if "UP" in l.get("flags", []) else "DOWN"
    print(l["ifname"], kind, up, "master=" + l.get("master", "-"), "parent=" + str(parent),
          "vid=" + str(vid), "alias=" + l.get("ifalias", "-").replace(" ", "_"))
'
}

# nt_owned HOST CLUSTER: the links of CLUSTER in site nettest, as nt_links prints them.
nt_owned() { nt_links "$1" | grep -E "alias=vcm:$2_site=${NT_SITE}_hash=[0-9a-f]{16}$" || true; }

# nt_expect_link HOST NAME KIND PARENT VID MASTER CLUSTER: exactly that link, marked and up.
nt_expect_link() {
    local host=$1 name=$2 kind=$3 parent=$4 vid=$5 master=$6 cluster=$7 line
    line=$(nt_links "$host" | awk -v n="$name" '$1 == n') || true
    [ -n "$line" ] || fail "$host: no link $name"
    grep -qE "^$name $kind UP master=$master parent=$parent vid=$vid alias=vcm:${cluster}_site=${NT_SITE}_hash=[0-9a-f]{16}$" <<< "$line" ||
        fail "$host: $name is not as expected ($kind UP master=$master parent=$parent vid=$vid cluster $cluster): $line"
}

# nt_endpoint HOST NS BRIDGE ADDR: a veth whose host end is on BRIDGE and whose other end, in a
# namespace of its own, has ADDR/24; it stands where a domain's NIC would be.
nt_endpoint() {
    local host=$1 ns=$2 bridge=$3 addr=$4
    run "$host" "ip netns add $ns && ip link add v$ns type veth peer name p$ns &&
        ip link set p$ns netns $ns && ip link set v$ns master $bridge up &&
        ip -n $ns addr add $addr/24 dev p$ns && ip -n $ns link set p$ns up && ip -n $ns link set lo up"
}

# nt_ping HOST NS ADDR: one-way reachability from the endpoint NS (busybox ping, 3 tries).
nt_ping() { run "$1" "ip netns exec $2 busybox ping -c 2 -W 2 $3" > /dev/null 2>&1; }

# nt_cleanup_host HOST [NAME...]: remove what a check made on HOST: its namespaces (ntns*, their
# veths go with them), every link whose alias is a mark of site nettest, the named links (the
# check's own look-alikes), the external bridge vntext0 and the repository.
nt_cleanup_host() {
    local host=$1 l
    shift
    run "$host" 'for ns in $(ip netns list | awk "/^ntns/ {print \$1}"); do ip netns del $ns; done' || true
    for l in $(nt_links "$host" | awk '$NF ~ /^alias=vcm:[^_]*_site='"$NT_SITE"'_/ {print $1}') "$@" vntext0; do
        run "$host" "ip link del $l 2>/dev/null" || true
    done
    run "$host" "rm -rf $NT_DIR" || true
}
