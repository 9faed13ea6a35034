#!/bin/bash
# vcm kernel lab (test tier 4, DESIGN.md §5): Debian's own kernel under QEMU (TCG)
# with this machine's root shared read-only over 9p and a private tmpfs overlay.
# See docs/testing.md for the interface; `lab.sh help` prints a summary.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$LAB_DIR/lab.sh"
CACHE=${VCM_LAB_CACHE:-/var/cache/vcm-lab}
STATE=${VCM_LAB_STATE:-/tmp/vcm-lab}
QEMU=${VCM_LAB_QEMU:-qemu-system-x86_64}
MEM=${VCM_LAB_MEM:-384}
SUBNET=10.99.0            # only ever inside the namespace made for the session
BRIDGE_ADDR=$SUBNET.1/24
MARKER=.vcm-lab-state     # only directories carrying it are ever removed by `down`
SKIP=77

say() { echo "lab: $*" >&2; }
die() { say "error: $*"; exit 1; }
skip() { say "SKIP: $*"; exit $SKIP; }

usage() {
    cat <<'EOF'
usage: lab.sh COMMAND ...
  prepare                      fetch the Debian kernel + build the initramfs (cached, idempotent)
  probe [--hosts]              exit 77 with a message if QEMU (or netns/tap) cannot run here
  oneshot [--disk SIZE]... [--timeout S] [--mem MiB] CMD...
                               boot one guest, run CMD (bash) in it, print its output,
                               return its exit status (124 if it hung and was killed)
  up N [--disk SIZE]... [--libvirtd] [--mem MiB]
                               start hosts lab1..labN (10.99.0.11..) on a bridge in a
                               private network namespace, sshd on each
  run HOST CMD...              run CMD on HOST over ssh (one argument = a shell line)
  exec CMD...                  run CMD inside the namespace (manager side); ssh there
                               knows lab1..labN and the run's key
  ssh HOST                     interactive shell on HOST
  ip HOST | uri HOST | ns | key | hosts | status | console HOST
  down                         stop everything `up` made (also: VCM_LAB_KEEP=1 keeps it)
Environment: VCM_LAB_STATE (session dir, default /tmp/vcm-lab), VCM_LAB_CACHE
(default /var/cache/vcm-lab), VCM_LAB_MEM, VCM_LAB_TIMEOUT, VCM_LAB_BOOT_TIMEOUT,
VCM_LAB_KEEP, VCM_LAB_TTL, VCM_LAB_KERNEL_PKG, VCM_LAB_QEMU.
EOF
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- prepare --

# Modules the initramfs loads itself; everything else comes from modprobe later.
INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"
# What the lab exists for; checked once after unpacking.
REQUIRED_MODULES="8021q bridge dm-mod target_core_mod target_core_iblock iscsi_target_mod
                  iscsi_tcp 9p 9pnet_virtio overlay virtio_net virtio_blk configfs"

kernel_pkg() {
    if [ -n "${VCM_LAB_KERNEL_PKG:-}" ]; then
        echo "$VCM_LAB_KERNEL_PKG"
        return
    fi
    # The ABI package the installed metapackage points at (e.g. linux-image-6.1.0-56-amd64).
    # The cloud flavour lacks 9p, so it is the plain amd64 one.
    local p
    p=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }') || true
    if [ -z "$p" ]; then
        # No apt metadata: fall back to whatever was fetched before.
        local d
        for d in "$CACHE"/linux-image-*-amd64/.done; do
            [ -e "$d" ] && p=$(basename "$(dirname "$d")")
        done
    fi
    [ -n "$p" ] || die "cannot tell which kernel to use (apt-cache depends linux-image-amd64 failed); set VCM_LAB_KERNEL_PKG"
    echo "$p"
}

# Resolve $INITRD_MODULES and their dependencies, in load order, from modules.dep.
initrd_module_list() {
    local moddir=$1 m path deps i seen=" " out=()
    for m in $INITRD_MODULES; do
        path=$(awk -F: -v m="$m" '{ n = $1; sub(".*/", "", n); sub("\\.ko.*$", "", n);
               gsub("-", "_", n); if (n == m) { print; exit } }' "$moddir/modules.dep")
        if [ -z "$path" ]; then
            grep -q "/$m.ko" "$moddir/modules.builtin" && continue
            die "module $m not in $moddir"
        fi
        # modules.dep lists the full closure, the deepest dependency last.
        read -r -a deps <<< "${path#*:}"
        for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
            [[ $seen == *" ${deps[i]} "* ]] || { out+=("${deps[i]}"); seen+="${deps[i]} "; }
        done
        path=${path%%:*}
        [[ $seen == *" $path "* ]] || { out+=("$path"); seen+="$path "; }
    done
    printf '%s\n' "${out[@]}"
}

# Sets KDIR (cache dir of the unpacked kernel), KVER, KERNEL, INITRD.
lab_prepare() {
    mkdir -p "$CACHE"
    local pkg lock
    pkg=$(kernel_pkg)
    KDIR=$CACHE/$pkg
    exec {lock}> "$CACHE/.lock"
    flock "$lock"
    if [ ! -e "$KDIR/.done" ]; then
        say "fetching $pkg into $KDIR (once)"
        local tmp
        tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
        # apt's _apt user cannot write a root-only mktemp dir; that is only a warning.
        (cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed' >&2) ||
            { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
        dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/root" || { rm -rf "$tmp"; die "dpkg -x failed"; }
        rm -f "$tmp"/*.deb
        local ver
        ver=$(ls -1 "$tmp/root/lib/modules")
        depmod -b "$tmp/root" "$ver" || { rm -rf "$tmp"; die "depmod failed"; }
        echo "$ver" > "$tmp/version"
        rm -rf "$KDIR"
        mv "$tmp" "$KDIR"
        touch "$KDIR/.done"
    fi
    KVER=$(cat "$KDIR/version")
    KERNEL=$KDIR/root/boot/vmlinuz-$KVER
    local moddir=$KDIR/root/lib/modules/$KVER m
    [ -r "$KERNEL" ] || die "$KERNEL missing; remove $KDIR and retry"
    if [ ! -e "$KDIR/.modules-ok" ]; then
        for m in $REQUIRED_MODULES; do
            grep -q "/$m\.ko[^:]*:" "$moddir/modules.dep" ||
                die "kernel $KVER has no module $m; pick another VCM_LAB_KERNEL_PKG"
        done
        touch "$KDIR/.modules-ok"
    fi

    # The initramfs depends on its init script, busybox and the module list.
    local list hash
    list=$(initrd_module_list "$moddir")
    hash=$( { cat "$LAB_DIR/guest/initramfs-init"; sha256sum /bin/busybox; echo "$list"; } |
            sha256sum | cut -c1-12)
    INITRD=$KDIR/initramfs-$hash.cpio.gz
    if [ ! -e "$INITRD" ]; then
        [ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root ||
            die "/bin/busybox (busybox-static) missing"
        local t
        t=$(mktemp -d "$CACHE/.initrd.XXXXXX")
        mkdir -p "$t/bin" "$t/modules"
        cp /bin/busybox "$t/bin/busybox"
        cp "$LAB_DIR/guest/initramfs-init" "$t/init"
        chmod 0755 "$t/init"
        : > "$t/modules.order"
        for m in $list; do
            cp "$moddir/$m" "$t/modules/"
            basename "$m" >> "$t/modules.order"
        done
        (cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) > "$t.cpio.gz"
        mv "$t.cpio.gz" "$INITRD"
        rm -rf "$t"
        say "built $INITRD"
    fi
    exec {lock}>&-
}

# ------------------------------------------------------------------ probe --

lab_probe() {
    command -v "$QEMU" > /dev/null || skip "$QEMU not found: QEMU cannot run here (apt-get install qemu-system-x86)"
    echo quit | timeout 30 "$QEMU" -accel tcg -machine none -display none -nodefaults \
        -monitor stdio > /dev/null 2>&1 ||
        skip "$QEMU does not start here: QEMU cannot run here"
    if [ "${1:-}" = --hosts ]; then
        [ "$(id -u)" = 0 ] || skip "hosts mode needs root (network namespaces, taps)"
        [ -c /dev/net/tun ] || skip "/dev/net/tun missing: no tap NICs for QEMU here"
        local ns=vcmlab-probe-$$
        ip netns add "$ns" 2> /dev/null || skip "cannot create network namespaces here"
        ip -n "$ns" link add sw0 type bridge 2> /dev/null &&
            ip -n "$ns" tuntap add dev tap0 mode tap 2> /dev/null ||
            { ip netns del "$ns"; skip "no bridge or tap support in this kernel"; }
        ip netns del "$ns"
    fi
    return 0
}

# ----------------------------------------------------------------- guests --

# launch_guest NAME GDIR MODE [NETNS IP INDEX]; disks are GDIR/disk*.img.
# Starts QEMU daemonized; its pid is in GDIR/qemu.pid.
launch_guest() {
    local name=$1 gdir=$2 mode=$3 ns=${4:-} ip=${5:-} idx=${6:-0}
    local args=(-name "vcmlab-$name" -accel tcg -cpu qemu64 -m "$MEM" -smp 1 -nodefaults
        -display none -no-reboot -serial "file:$gdir/console.log" -monitor none
        -kernel "$KERNEL" -initrd "$INITRD"
        -append "console=ttyS0 no_timer_check panic=1 loglevel=4 vcmlab.kver=$KVER vcmlab.moddir=$KDIR/root/lib/modules/$KVER vcmlab.init=${VCM_LAB_GUEST_INIT:-$LAB_DIR/guest/init.sh} vcmlab.host=$name vcmlab.mode=$mode ${ip:+vcmlab.ip=$ip/24}"
        -fsdev "local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap"
        -device "virtio-9p-pci,fsdev=rootfs,mount_tag=rootfs"
        -fsdev "local,id=share,path=$gdir/share,security_model=none"
        -device "virtio-9p-pci,fsdev=share,mount_tag=vcmlab"
        -daemonize -pidfile "$gdir/qemu.pid")
    local d
    for d in "$gdir"/disk*.img; do
        [ -e "$d" ] && args+=(-drive "file=$d,format=raw,if=virtio,cache=unsafe")
    done
    if [ -n "$ns" ]; then
        args+=(-netdev "tap,id=n0,ifname=tap$idx,script=no,downscript=no"
            -device "virtio-net-pci,netdev=n0,mac=52:54:00:99:00:$(printf %02x "$idx")")
        ip netns exec "$ns" "$QEMU" "${args[@]}" 2> "$gdir/qemu.err" ||
            die "QEMU for $name failed: $(cat "$gdir/qemu.err")"
    else
        "$QEMU" "${args[@]}" 2> "$gdir/qemu.err" || die "QEMU for $name failed: $(cat "$gdir/qemu.err")"
    fi
}

# Pid of the guest's QEMU if it is still running (and still ours).
guest_pid() {
    local gdir=$1 pid
    pid=$(cat "$gdir/qemu.pid" 2> /dev/null) || return 1
    [ -n "$pid" ] && grep -qF "$gdir/share" "/proc/$pid/cmdline" 2> /dev/null || return 1
    echo "$pid"
}

kill_guest() {
    local gdir=$1 pid i
    pid=$(guest_pid "$gdir") || return 0
    kill "$pid" 2> /dev/null || true
    for i in $(seq 50); do
        guest_pid "$gdir" > /dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2> /dev/null || true
}

console_tail() {
    # The init's own lines and any errors first: a panic trace would push them out of a tail.
    say "from $1/console.log (init lines and errors, then the last lines):"
    awk '!/^\[ *[0-9.]+\]/ && !/^ *$/ || tolower($0) ~ /panic|error|fail|oops|bug:/' \
        "$1/console.log" 2> /dev/null | tail -n 15 | sed 's/^/    /' >&2 || true
    echo "    ..." >&2
    tail -n "${2:-5}" "$1/console.log" 2> /dev/null | sed 's/^/    /' >&2 || true
}

make_disks() {
    local gdir=$1 i=0 s
    shift
    for s in "$@"; do
        truncate -s "$s" "$gdir/disk$i.img"
        i=$((i + 1))
    done
}

# ---------------------------------------------------------------- oneshot --

lab_oneshot() {
    local disks=() timeout=${VCM_LAB_TIMEOUT:-300}
    while [ $# -gt 0 ]; do
        case "$1" in
        --disk) disks+=("$2"); shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    [ $# -gt 0 ] || die "oneshot: no command"
    lab_probe
    lab_prepare
    local gdir
    gdir=$(mktemp -d /tmp/vcm-lab-oneshot.XXXXXX)
    mkdir "$gdir/share"
    touch "$gdir/$MARKER"
    ONESHOT_DIR=$gdir
    trap 'oneshot_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [ $# -eq 1 ]; then printf '%s\n' "$1"; else printf '%q ' "$@"; echo; fi > "$gdir/share/cmd"
    pwd > "$gdir/share/cwd"
    make_disks "$gdir" "${disks[@]}"
    local t0 pid
    t0=$(now)
    launch_guest oneshot "$gdir" oneshot
    local deadline=$((SECONDS + timeout))
    while pid=$(guest_pid "$gdir"); do
        if [ $SECONDS -ge $deadline ]; then
            say "guest did not finish within $timeout s: killed"
            kill_guest "$gdir"
            console_tail "$gdir"
            [ -f "$gdir/share/out" ] && cat "$gdir/share/out"
            return 124
        fi
        sleep 0.2
    done
    [ -f "$gdir/share/out" ] && cat "$gdir/share/out"
    if [ ! -f "$gdir/share/rc" ]; then
        say "guest stopped without a result (crash or boot failure)"
        [ -f "$gdir/share/failed" ] && say "guest said: $(cat "$gdir/share/failed")"
        console_tail "$gdir"
        return 125
    fi
    say "oneshot finished in $(elapsed "$t0") s (boot + command + poweroff)"
    return "$(cat "$gdir/share/rc")"
}

oneshot_cleanup() {
    local rc=$?
    [ -n "${ONESHOT_DIR:-}" ] || return 0
    if [ "${VCM_LAB_KEEP:-0}" = 1 ]; then
        say "VCM_LAB_KEEP=1: kept $ONESHOT_DIR (console.log, share/)"
    else
        kill_guest "$ONESHOT_DIR"
        [ -e "$ONESHOT_DIR/$MARKER" ] && rm -rf "$ONESHOT_DIR"
    fi
    exit $rc
}

# ------------------------------------------------------------------ hosts --

load_state() {
    [ -e "$STATE/$MARKER" ] || die "no lab session in $STATE (lab.sh up N first, or set VCM_LAB_STATE)"
    # shellcheck disable=SC1091
    . "$STATE/env"
}

host_dir() {
    local h=$1
    [[ $h =~ ^[0-9]+$ ]] && h=lab$h
    [ -d "$STATE/$h" ] || die "no host $h in $STATE"
    echo "$STATE/$h"
}

host_ip() { cat "$(host_dir "$1")/ip"; }

lab_up() {
    local n=${1:-}
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 40 ] || die "up: N must be 1..40"
    shift
    local disks=() libvirtd=0
    while [ $# -gt 0 ]; do
        case "$1" in
        --disk) disks+=("$2"); shift 2 ;;
        --libvirtd) libvirtd=1; shift ;;
        --mem) MEM=$2; shift 2 ;;
        *) die "up: unknown option $1" ;;
        esac
    done
    lab_probe --hosts
    if [ -e "$STATE/$MARKER" ]; then
        say "an earlier session in $STATE: taking it down first"
        "$SELF" down
    fi
    [ ! -e "$STATE" ] || [ -z "$(ls -A "$STATE")" ] || die "$STATE exists and is not a lab session dir"
    lab_prepare
    local t0
    t0=$(now)
    mkdir -p "$STATE"
    touch "$STATE/$MARKER"
    UP_OK=0
    trap 'up_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local ns
    ns=vcmlab-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
    cat > "$STATE/env" <<EOF
NS=$ns
N=$n
EOF
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add sw0 type bridge
    ip -n "$ns" addr add "$BRIDGE_ADDR" dev sw0
    ip -n "$ns" link set sw0 up

    ssh-keygen -q -t ed25519 -N '' -C vcm-lab -f "$STATE/id_ed25519"
    {
        echo "# vcm kernel lab: only for hosts inside namespace $ns"
        for i in $(seq "$n"); do
            printf 'Host lab%d\n  HostName %s.%d\n' "$i" "$SUBNET" $((10 + i))
        done
        cat <<EOF
Host *
  User root
  IdentityFile $STATE/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
  ConnectTimeout 10
  ServerAliveInterval 5
  ControlMaster auto
  ControlPath $STATE/ctl-%C
  ControlPersist 900
EOF
    } > "$STATE/ssh_config"
    local hosts="" i
    for i in $(seq "$n"); do hosts+="$SUBNET.$((10 + i)) lab$i"$'\n'; done
    hosts+="$SUBNET.1 manager"$'\n'

    for i in $(seq "$n"); do
        local g=$STATE/lab$i
        mkdir -p "$g/share"
        echo "$SUBNET.$((10 + i))" > "$g/ip"
        cp "$STATE/id_ed25519.pub" "$g/share/authorized_keys"
        printf '%s' "$hosts" > "$g/share/hosts"
        [ $libvirtd = 1 ] && touch "$g/share/libvirtd"
        make_disks "$g" "${disks[@]}"
        ip -n "$ns" tuntap add dev "tap$i" mode tap
        ip -n "$ns" link set "tap$i" master sw0 up
        date +%s.%N > "$g/started"
        launch_guest "lab$i" "$g" host "$ns" "$SUBNET.$((10 + i))" "$i"
    done

    # All guests boot in parallel; wait for each to say it is ready.
    local boot_timeout=${VCM_LAB_BOOT_TIMEOUT:-240} deadline pending
    deadline=$((SECONDS + boot_timeout))
    while :; do
        pending=0
        for i in $(seq "$n"); do
            local g=$STATE/lab$i
            [ -e "$g/boot_time" ] && continue
            if [ -e "$g/share/ready" ]; then
                elapsed "$(cat "$g/started")" > "$g/boot_time"
                say "lab$i ready in $(cat "$g/boot_time") s ($(cat "$g/ip"))"
                continue
            fi
            if ! guest_pid "$g" > /dev/null; then
                [ -f "$g/share/failed" ] && say "lab$i said: $(cat "$g/share/failed")"
                console_tail "$g"
                die "lab$i stopped while booting"
            fi
            pending=$((pending + 1))
        done
        [ $pending = 0 ] && break
        if [ $SECONDS -ge $deadline ]; then
            for i in $(seq "$n"); do [ -e "$STATE/lab$i/boot_time" ] || console_tail "$STATE/lab$i"; done
            die "$pending host(s) not ready within $boot_timeout s"
        fi
        sleep 0.3
    done
    for i in $(seq "$n"); do
        "$SELF" run "lab$i" true || { console_tail "$STATE/lab$i"; die "ssh to lab$i failed"; }
    done

    # A session nobody takes down is reaped after VCM_LAB_TTL seconds.
    local ttl=${VCM_LAB_TTL:-1800}
    [ "${VCM_LAB_KEEP:-0}" = 1 ] && ttl=${VCM_LAB_TTL:-0}
    if [ "$ttl" != 0 ]; then
        VCM_LAB_STATE=$STATE VCM_LAB_KEEP=0 VCM_LAB_REAPING=1 \
            setsid bash -c 'sleep "$1"; exec "$0" down' "$SELF" "$ttl" < /dev/null > /dev/null 2>&1 &
        echo "REAPER=$!" >> "$STATE/env"
    fi
    UP_OK=1
    say "$n host(s) up in $(elapsed "$t0") s; namespace $ns; state $STATE"
}

up_cleanup() {
    local rc=$?
    if [ "${UP_OK:-0}" != 1 ]; then
        if [ "${VCM_LAB_KEEP:-0}" = 1 ]; then
            say "VCM_LAB_KEEP=1: left the failed session in $STATE (lab.sh down to remove)"
        else
            VCM_LAB_KEEP=0 "$SELF" down || true
        fi
        [ $rc = 0 ] && rc=1
    fi
    exit $rc
}

lab_down() {
    if [ ! -e "$STATE/$MARKER" ]; then
        say "no lab session in $STATE"
        return 0
    fi
    if [ "${VCM_LAB_KEEP:-0}" = 1 ]; then
        say "VCM_LAB_KEEP=1: leaving the session in $STATE up (VCM_LAB_KEEP=0 lab.sh down removes it)"
        return 0
    fi
    local NS="" REAPER="" g
    # shellcheck disable=SC1091
    [ -f "$STATE/env" ] && . "$STATE/env"
    # Everything still running in the namespace was started by this session
    # (QEMU, ssh connection masters, commands run with `lab.sh exec`).
    if [ -n "$NS" ] && ip netns list | grep -qw "^$NS"; then
        local pids
        pids=$(ip netns pids "$NS" 2> /dev/null) || true
        [ -n "$pids" ] && kill $pids 2> /dev/null || true
    fi
    for g in "$STATE"/lab*/; do
        [ -d "$g" ] && kill_guest "${g%/}"
    done
    if [ -n "$NS" ] && ip netns list | grep -qw "^$NS"; then
        local pids
        pids=$(ip netns pids "$NS" 2> /dev/null) || true
        [ -n "$pids" ] && kill -9 $pids 2> /dev/null || true
    fi
    if [ -n "$REAPER" ] && [ -z "${VCM_LAB_REAPING:-}" ]; then
        kill -- "-$REAPER" 2> /dev/null || true
    fi
    # Deleting the namespace removes its bridge and taps with it.
    if [ -n "$NS" ] && ip netns list | grep -qw "^$NS"; then
        ip netns del "$NS"
    fi
    # Verify, so the fixture's cleanup test fails if anything survived.
    local left
    left=$(pgrep -f -- "-pidfile $STATE/lab" || true)
    [ -z "$left" ] || die "QEMU still running after down: pids $left"
    if [ -n "$NS" ] && ip netns list | grep -qw "^$NS"; then die "namespace $NS still exists"; fi
    rm -rf "$STATE"
    say "session in $STATE removed"
}

ssh_host() {
    local h=$1
    shift
    load_state
    ip netns exec "$NS" ssh -F "$STATE/ssh_config" "$@" "root@$(host_ip "$h")"
}

lab_run() {
    local h=${1:-}
    [ -n "$h" ] && [ $# -ge 2 ] || die "run: HOST CMD..."
    shift
    local cmd
    if [ $# -eq 1 ]; then cmd=$1; else cmd=$(printf '%q ' "$@"); fi
    load_state
    ip netns exec "$NS" ssh -F "$STATE/ssh_config" "root@$(host_ip "$h")" "$cmd"
}

lab_exec() {
    [ $# -ge 1 ] || die "exec: CMD..."
    load_state
    # `ip netns exec` gives a private mount namespace: the run's ssh settings replace
    # /etc/ssh/ssh_config only there, so `ssh labN` and qemu+ssh URIs just work.
    ip netns exec "$NS" bash -c 'mount --bind "$1" /etc/ssh/ssh_config && shift && exec "$@"' \
        _ "$STATE/ssh_config" "$@"
}

lab_status() {
    load_state
    echo "state $STATE namespace $NS hosts $N"
    local i g
    for i in $(seq "$N"); do
        g=$STATE/lab$i
        printf 'lab%d %s %s boot %ss console %s\n' "$i" "$(cat "$g/ip")" \
            "$(guest_pid "$g" > /dev/null && echo running || echo STOPPED)" \
            "$(cat "$g/boot_time" 2> /dev/null || echo ?)" "$g/console.log"
    done
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
prepare) lab_prepare; echo "$KERNEL"; echo "$INITRD" ;;
probe) lab_probe "$@" ;;
oneshot) lab_oneshot "$@" ;;
up) lab_up "$@" ;;
down) lab_down ;;
run) lab_run "$@" ;;
exec) lab_exec "$@" ;;
ssh) ssh_host "${1:?ssh HOST}" -t ;;
ip) load_state; host_ip "${1:?ip HOST}" ;;
uri) load_state; echo "qemu+ssh://root@$(host_ip "${1:?uri HOST}")/system?keyfile=$STATE/id_ed25519&no_verify=1" ;;
ns) load_state; echo "$NS" ;;
key) load_state; echo "$STATE/id_ed25519" ;;
hosts) load_state; for i in $(seq "$N"); do echo "lab$i $(host_ip "lab$i")"; done ;;
console) load_state; echo "$(host_dir "${1:?console HOST}")/console.log" ;;
status) lab_status ;;
help | -h | --help) usage ;;
*) usage >&2; exit 2 ;;
esac
