#!/bin/bash
# A whole site, end to end (issue #10). Three lab hosts on the lab switch:
#   lab1  gateway + vm-server: libvirtd, the clusters' frontends, an external bridge
#   lab2  vm-server: libvirtd, the compute nodes
#   lab3  storage: a volume group on its disk, the kernel's iSCSI target (LIO)
# vcm runs on the manager side (inside the session's namespace, not on any host): specs come
# from a git repository, libvirt is reached over qemu+ssh, and each host's netlink, lvm and lio
# work goes through `vcm agent` started over ssh (`agent:` in site.yaml). Shown here:
#  1. two clusters come up from the repository: domains running on the planned hosts, their disks
#     LUNs of lab3's target logged in from the VM hosts, each cluster's VLAN on both vm-servers;
#     endpoints on one cluster's bridges reach each other across the switch, the other cluster's
#     never do (same subnet);
#  2. a second pass does nothing and `vcm plan` says so with exit 0;
#  3. the storage host's agent is killed during the apply that creates a third cluster (and
#     cannot come back for a while): that cluster is Degraded with the host named, the vm-servers'
#     part of the work completes, nothing is deleted while the host is away, and once the agent
#     can start again the next pass converges with no duplicate;
#  4. one cluster's window ends: its domains, LUNs, target, ACLs, LVs (wiped) and VLAN links and
#     bridges are gone on every host; the other clusters are untouched.
. "$(dirname "$0")/../lab/checks/common.sh"
NT_SITE=e2esite
. "$(dirname "$0")/../lab/checks/net_lib.sh"
. "$(dirname "$0")/../lab/checks/stor_lib.sh"

GW=lab1 VM=lab2 ST=lab3 DISK=/dev/vda VG=vcme2e
STIP=$("$LAB" ip $ST)
KEY=$("$LAB" key)
AGENT=/tmp/vcm-e2e/vcm   # on each host, a link to the vcm binary: the agent's command
AFTER_ALPHA=2027-07-01T00:00:00Z
MARK=VCM-E2E-DATA-$$
uri() { echo "qemu+ssh://root@$("$LAB" ip "$1")/system?keyfile=$KEY&no_verify=1"; }
virsh_on() { local h=$1; shift; "$LAB" exec virsh -c "$(uri "$h")" "$@"; }

work=$(mktemp -d /tmp/vcm-e2e.XXXXXX)
repo=$work/repo state=$work/state
# vcm on the manager side, against the repository's main branch (a git source).
v() { "$LAB" exec "$VCM" "$@" --source "file://$repo" --ref main --state-dir "$state"; }
commit() {
    git -C "$repo" add -A && git -C "$repo" -c user.name=ops -c user.email=ops@example.org \
        commit -q --allow-empty -m "$1"
}

cleanup() {
    local rc=$?
    set +e
    [ $rc = 0 ] || { echo "--- the last vcm output:"; tail -40 "$work/last.log" 2>/dev/null; }
    # vcm's own release first (the agents must be able to start), then whatever a failure left.
    for h in $GW $VM $ST; do run $h "mkdir -p ${AGENT%/*} && ln -sfn $VCM $AGENT"; done > /dev/null 2>&1
    if [ -d "$repo/.git" ]; then
        git -C "$repo" rm -q -r --ignore-unmatch clusters > /dev/null 2>&1
        commit "release everything" > /dev/null 2>&1
        timeout 600 "$LAB" exec "$VCM" apply --allow-empty --source "file://$repo" --ref main \
            --state-dir "$state" > /dev/null 2>&1
    fi
    for h in $GW $VM; do
        "$LAB" exec bash -c "for d in \$(virsh -c '$(uri $h)' list --all --name | grep -E '^(alpha|beta|gamma)-'); do
            virsh -c '$(uri $h)' destroy \$d; virsh -c '$(uri $h)' undefine \$d; done" > /dev/null 2>&1
        nt_cleanup_host $h > /dev/null 2>&1
    done
    run $ST "vgremove -ff -y $VG; pvremove -y $DISK" > /dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------------ hosts --
note "hosts: libvirtd on $GW and $VM, an external bridge on $GW, a volume group and LIO on $ST"
for h in $GW $VM; do
    run $h "$(dirname "$LAB")/guest/start-libvirtd.sh > /dev/null && modprobe -a tun 8021q bridge" ||
        fail "libvirtd on $h"
done
run $GW "ip link add vntext0 type bridge && ip link set vntext0 up" || fail "external bridge on $GW"
run $ST "pvcreate -qy $DISK && vgcreate -q $VG $DISK && modprobe configfs &&
         { mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config; } &&
         modprobe -a target_core_mod target_core_iblock iscsi_target_mod" || fail "storage on $ST"
for h in $GW $VM $ST; do run $h "mkdir -p ${AGENT%/*} && ln -sfn $VCM $AGENT" || fail "agent link on $h"; done

# ------------------------------------------------------------- repository --
mkdir -p "$repo/clusters" "$repo/rolls"
git -C "$repo" init -q -b main
cp "$SRC/examples/quickstart/rolls/base.yaml" "$repo/rolls/"
host() { # NAME ROLES [EXTRA YAML LINES]
    printf '    - name: %s\n      roles: [%s]\n      agent: [ssh, %s, %s, agent]\n' "$1" "$2" "$1" "$AGENT"
    [ "$1" = $ST ] || printf '      libvirt: "%s"\n      domainType: qemu\n      capacity: {vcpus: 8, memory: 1GiB}\n      trunk: eth0\n' "$(uri "$1")"
    [ -z "${3:-}" ] || printf '%s\n' "$3"
}
cat > "$repo/site.yaml" <<EOS
apiVersion: vcm/v1
kind: Site
metadata: {name: $NT_SITE}
spec:
  network: {backend: vlan, vlanRange: {from: 3960, to: 3969}}
  storage: {backend: lvm-iscsi}
  hosts:
$(host $GW "gateway, vm-server" "      external: vntext0")
$(host $VM vm-server)
$(host $ST storage "      volumeGroup: $VG
      portal: $STIP:3260
      capacity: {storage: 400MiB}")
EOS
cluster() { # NAME SUBNET END
    cat > "$repo/clusters/$1.yaml" <<EOC
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $1, owner: ops@example.org}
spec:
  window: {start: 2026-01-01T00:00:00Z, end: $3}
  rolls: [base]
  network: {vlan: auto, subnet: $2}
  frontend: {vcpus: 1, memory: 48MiB, disk: 16MiB, external: true}
  nodes:
    - {name: compute, appliance: compute, count: 1, vcpus: 1, memory: 48MiB, disk: 16MiB}
  sharedStorage: 8MiB
EOC
}
cluster alpha 10.77.0.0/24 2027-06-30T00:00:00Z
cluster beta 10.77.0.0/24 2030-01-01T00:00:00Z
commit "site e2e: clusters alpha and beta"
v validate > "$work/last.log" 2>&1 || fail "vcm validate: $(cat "$work/last.log")"

# -------------------------------------------------------------- 1. create --
note "1. plan: frontends on $GW, nodes on $VM, storage on $ST, each VLAN on both vm-servers"
rc=0; v plan -o json > "$work/plan.json" 2> "$work/last.log" || rc=$?
[ $rc = 2 ] || fail "vcm plan exited $rc, not 2 (changes)"
where() { # the plan's kinds per cluster and host, e.g. "alpha domain alpha-frontend@lab1"
    python3 -c '
import json, sys
net = {"vlan-link", "bridge"}
for c in json.load(open(sys.argv[1]))["changes"]:
    what = c["name"] + "@" + c["host"] if c["kind"] == "domain" else c["host"]
    print(c["cluster"], "network" if c["kind"] in net else c["kind"], what)' "$1" | sort -u
}
where "$work/plan.json" | tee "$work/where" | sed 's/^/    /'
want="alpha domain alpha-compute-0@$VM
alpha domain alpha-frontend@$GW
alpha network $GW
alpha network $VM"
grep -E '^alpha (network|domain)' "$work/where" | diff <(echo "$want") - || fail "alpha's placement"
for k in volume iscsi-target iscsi-lun iscsi-acl; do
    for c in alpha beta; do
        [ "$(grep "^$c $k " "$work/where" | awk '{print $3}' | sort -u)" = $ST ] ||
            fail "$c's ${k}s are not (only) on $ST"
    done
done
[ "$(grep '^beta network' "$work/where" | awk '{print $3}' | sort -u | tr '\n' ' ')" = "$GW $VM " ] ||
    fail "beta's network is not on both vm-servers"
v plan > "$work/plan.txt" 2>&1 || true
note "  the plan names the host of each step: $(grep -c ' on lab[123]' "$work/plan.txt" || true) lines say 'on labN'"

note "1. apply"
v apply --parallel 4 > "$work/last.log" 2>&1 || fail "vcm apply failed"
grep -E '^  (alpha|beta) +Ready' "$work/last.log" | wc -l | grep -qx 2 || fail "alpha and beta are not Ready"
for h in $GW $VM; do
    got=$(virsh_on $h list --name --state-running | sed '/^$/d' | sort | tr '\n' ' ')
    exp=$([ $h = $GW ] && echo "alpha-frontend beta-frontend " || echo "alpha-compute-0 beta-compute-0 ")
    [ "$got" = "$exp" ] || fail "running on $h: '$got', planned '$exp'"
done
note "  running: $GW: alpha-frontend beta-frontend; $VM: alpha-compute-0 beta-compute-0"

note "1. disks: LUNs of $ST's target, each VM host logged in with its own initiator"
for d in alpha-frontend@$GW alpha-compute-0@$VM beta-frontend@$GW beta-compute-0@$VM; do
    dom=${d%@*} h=${d#*@} c=${d%%-*}
    xml=$(virsh_on $h dumpxml "$dom")
    grep -q "<source protocol='iscsi' name='iqn.2026-01.org.vcm:$c/" <<< "$xml" || fail "$dom: no iSCSI disk of target $c"
    grep -q "<host name='$STIP' port='3260'/>" <<< "$xml" || fail "$dom: disk not on $ST's portal"
    grep -q "<iqn name='iqn.2026-01.org.vcm.initiator:$h'/>" <<< "$xml" || fail "$dom: not $h's initiator"
done
lio_inventory $ST > "$work/lio.1"
sed 's/^/    /' "$work/lio.1"
for c in alpha beta; do
    grep -q "^target iqn.2026-01.org.vcm:$c enable=1" "$work/lio.1" || fail "no enabled target for $c"
    for h in $GW $VM; do
        grep -q "acl iqn.2026-01.org.vcm.initiator:$h lun_0 lun_1 lun_2" "$work/lio.1" || fail "$c: no ACL for $h"
        info=$(run $ST "cat $CFS/iscsi/iqn.2026-01.org.vcm:$c/tpgt_1/acls/iqn.2026-01.org.vcm.initiator:$h/info")
        grep -q LOGGED_IN <<< "$info" || fail "$c: $h's initiator has no session: $info"
    done
done
lvs=$(run $ST "lvs --noheadings -o lv_name,lv_tags $VG" | awk '{print $1, $2}' | sort)
[ "$(grep -c 'vcm:alpha' <<< "$lvs")" = 3 ] && [ "$(grep -c 'vcm:beta' <<< "$lvs")" = 3 ] ||
    fail "LVs on $ST: $lvs"

note "1. VLANs on both vm-servers; traffic inside a cluster crosses hosts, never between clusters"
vid() { nt_owned $GW "$1" | awk '$2 == "vlan" {sub("vid=", "", $6); print $6}'; }
A=$(vid alpha) B=$(vid beta)
[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ] || fail "VLAN ids: alpha '$A', beta '$B'"
for h in $GW $VM; do
    for c in alpha:$A beta:$B; do
        nt_expect_link $h vcmv${c#*:} vlan eth0 ${c#*:} vcmbr${c#*:} ${c%:*}
        nt_expect_link $h vcmbr${c#*:} bridge - - - ${c%:*}
    done
done
# The domains' NICs are ports of their cluster's bridge on their host (the frontends' second NIC
# on the external bridge), next to the endpoints below.
for d in alpha-frontend@$GW:$A alpha-compute-0@$VM:$A beta-frontend@$GW:$B beta-compute-0@$VM:$B; do
    dom=${d%@*} rest=${d#*@}
    h=${rest%:*} id=${rest#*:}
    nics=$(virsh_on $h domiflist "$dom" | awk '$2 == "bridge" {print $3}' | tr '\n' ' ')
    want="vcmbr$id $([ $h = $GW ] && echo 'vntext0 ' || true)"
    [ "$nics" = "$want" ] || fail "$dom's NICs are on '$nics', not '$want'"
done
nt_endpoint $GW ntnsa1 vcmbr$A 10.77.0.201
nt_endpoint $VM ntnsa2 vcmbr$A 10.77.0.202
nt_endpoint $GW ntnsb1 vcmbr$B 10.77.0.203
nt_endpoint $VM ntnsb2 vcmbr$B 10.77.0.204
nt_ping $GW ntnsa1 10.77.0.202 || fail "alpha on $GW cannot reach alpha on $VM"
nt_ping $VM ntnsb2 10.77.0.203 || fail "beta on $VM cannot reach beta on $GW"
nt_ping $GW ntnsb1 10.77.0.202 && fail "beta on $GW reached alpha on $VM"
nt_ping $VM ntnsb2 10.77.0.201 && fail "beta on $VM reached alpha on $GW"
nt_ping $GW ntnsb1 10.77.0.201 && fail "beta on $GW reached alpha on $GW"
note "  alpha (VLAN $A) and beta (VLAN $B) each reach across the switch; beta never reaches alpha"

# ------------------------------------------------------------- 2. no-op --
note "2. a second pass does nothing; plan says so with exit 0"
v apply > "$work/last.log" 2>&1 || fail "second apply failed"
grep -q 'No changes' "$work/last.log" || fail "second apply did something: $(cat "$work/last.log")"
rc=0; v plan > "$work/last.log" 2>&1 || rc=$?
[ $rc = 0 ] || fail "plan after convergence exited $rc: $(cat "$work/last.log")"
grep -q 'No changes' "$work/last.log" || fail "plan does not say 'No changes'"

# ---------------------------------------------------- 3. an agent is killed --
note "3. cluster gamma; $ST's agent killed as its first volume is being made, and kept away"
cluster gamma 10.78.0.0/24 2030-01-01T00:00:00Z
commit "gamma"
"$LAB" exec bash -c "'$VCM' apply --parallel 4 --source 'file://$repo' --ref main --state-dir '$state' \
    > '$work/kill.log' 2>&1; echo \$? > '$work/kill.rc'" &
apply_pid=$!
for _ in $(seq 3000); do
    grep -q 'create volume/gamma-.*start' "$work/kill.log" 2> /dev/null && break
    kill -0 $apply_pid 2> /dev/null || break
    sleep 0.05
done
grep -q 'create volume/gamma-.*start' "$work/kill.log" || fail "apply never started a volume of gamma"
# The link first, so that vcm cannot start the agent again; then the agent itself.
run $ST "rm -f $AGENT; pkill -9 -x vcm && echo killed" > "$work/killed" || true
wait $apply_pid || true
cp "$work/kill.log" "$work/last.log"
grep -q killed "$work/killed" || fail "no agent was running on $ST to kill"
[ "$(cat "$work/kill.rc")" != 0 ] || fail "the apply with a killed agent exited 0"
grep -E "FAILED: .*$ST" "$work/kill.log" | head -3 | sed 's/^/    /'
grep -qE '^  gamma +Degraded' "$work/kill.log" || fail "gamma is not Degraded"
# The vm-servers' part of gamma's work went on: its VLAN link and bridge on both.
G=$(vid gamma)
[ -n "$G" ] || fail "gamma has no VLAN link on $GW"
for h in $GW $VM; do
    nt_expect_link $h vcmv$G vlan eth0 $G vcmbr$G gamma
    nt_expect_link $h vcmbr$G bridge - - - gamma
done
note "  gamma Degraded; its VLAN $G is up on $GW and $VM"

note "3. while $ST's agent cannot start: status names it, plan deletes nothing"
v status > "$work/status.txt" 2>&1 || true
sed 's/^/    /' "$work/status.txt" | head -20
grep -E '^ *gamma +Degraded' "$work/status.txt" | grep -q "$ST" || fail "status does not blame $ST for gamma"
v plan -o json > "$work/plan.down.json" 2> "$work/last.log" || true
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
bad = [c for c in p["changes"] if c["action"] in ("delete", "destroy", "replace")]
sys.exit(1 if bad else 0)' "$work/plan.down.json" || fail "plan with $ST away would delete: $(cat "$work/plan.down.json")"
nt_ping $GW ntnsa1 10.77.0.202 || fail "alpha lost its network while $ST was away"

note "3. the agent can start again: the next pass converges, no duplicates"
run $ST "ln -sfn $VCM $AGENT" || fail "agent link on $ST"
v apply --parallel 4 > "$work/last.log" 2>&1 || v apply > "$work/last.log" 2>&1 || fail "no convergence after the agent came back"
rc=0; v plan > "$work/last.log" 2>&1 || rc=$?
[ $rc = 0 ] || fail "plan after the agent came back exited $rc: $(cat "$work/last.log")"
[ "$(virsh_on $GW domstate gamma-frontend)" = running ] || fail "gamma-frontend is not running"
[ "$(virsh_on $VM domstate gamma-compute-0)" = running ] || fail "gamma-compute-0 is not running"
lio_inventory $ST > "$work/lio.3"
[ "$(grep -c '^target ' "$work/lio.3")" = 3 ] || fail "targets: $(grep '^target' "$work/lio.3")"
[ "$(grep -c '^backstore .*vcm\.gamma\.' "$work/lio.3")" = 3 ] || fail "gamma's backstores: $(cat "$work/lio.3")"
grep -q empty-hba "$work/lio.3" && fail "an orphaned backstore HBA"
[ "$(run $ST "lvs --noheadings -o lv_name -S 'tags=vcm:gamma' $VG" | wc -l)" = 3 ] || fail "gamma's LVs"

# ------------------------------------------------------- 4. window end --
note "4. alpha's window ends: everything of alpha goes, on every host; beta and gamma untouched"
others() { # what beta and gamma have everywhere, to compare
    for h in $GW $VM; do
        for d in $(virsh_on $h list --all --name | grep -E '^(beta|gamma)-' | sort); do
            echo "$h $d $(virsh_on $h domid "$d") $(virsh_on $h domuuid "$d")"
        done
        nt_owned $h beta; nt_owned $h gamma
    done
    # without alpha's target (its block) and backstores
    lio_inventory $ST | awk '/^[^ ]/ { skip = /^target .*:alpha / } !skip' |
        grep -v 'vcm\.alpha\.' | sed 's/iblock_[0-9]*/iblock_N/'
    run $ST "lvs --noheadings -o lv_name,lv_tags,lv_uuid $VG" | grep -v vcm:alpha
}
others > "$work/others.before"
run $ST "yes $MARK | head -c 1048576 | dd of=/dev/$VG/alpha-compute-0 oflag=direct bs=1M status=none" ||
    fail "mark alpha's node disk"
extents=$(lv_extents $ST $VG alpha-compute-0)
rc=0; v plan --at $AFTER_ALPHA -o json > "$work/plan.end.json" 2> "$work/last.log" || rc=$?
[ $rc = 2 ] || fail "plan at $AFTER_ALPHA exited $rc"
python3 -c '
import json, sys
ch = json.load(open(sys.argv[1]))["changes"]
print("    the release plan:", len(ch), "steps,", sorted({c["action"] for c in ch}), sorted({c["host"] for c in ch}))
sys.exit(0 if ch and all(c["cluster"] == "alpha" and c["action"] in ("delete", "destroy") for c in ch) else 1)' \
    "$work/plan.end.json" || fail "the release plan is not only alpha's deletes: $(cat "$work/plan.end.json")"
v apply --at $AFTER_ALPHA > "$work/last.log" 2>&1 || fail "release of alpha failed"
for h in $GW $VM; do
    left=$(virsh_on $h list --all --name | grep '^alpha-' || true)
    [ -z "$left" ] || fail "alpha's domains left on $h: $left"
    [ -z "$(nt_owned $h alpha)" ] || fail "alpha's links left on $h: $(nt_owned $h alpha)"
done
lio_inventory $ST | grep -q -e ':alpha' -e 'vcm\.alpha\.' && fail "alpha's exports left: $(lio_inventory $ST)"
[ -z "$(run $ST "lvs --noheadings -o lv_name -S 'tags=vcm:alpha' $VG")" ] || fail "alpha's LVs left"
n=$(probe_extents $ST $VG "$extents" $MARK) || true
[ "$n" = 0 ] || fail "alpha's data is still on the freed extents $extents ($n copies)"
others > "$work/others.after"
diff "$work/others.before" "$work/others.after" || fail "beta or gamma changed"
nt_ping $VM ntnsb2 10.77.0.203 || fail "beta lost its network"
rc=0; v plan --at $AFTER_ALPHA > "$work/last.log" 2>&1 || rc=$?
[ $rc = 0 ] || fail "plan after the release exited $rc: $(cat "$work/last.log")"
note "  alpha gone from $GW, $VM and $ST (LV extents $extents read 0 copies); beta and gamma as before"
note "ok"
