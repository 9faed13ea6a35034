#!/bin/bash
# Kernel lab guest init: PID 1 inside the overlay (host root read-only over 9p +
# private tmpfs). Sets up the pseudo file systems, host name, NIC, LVM without
# udev and sshd, then either runs the one-shot command or stays up as a lab host.
# Kernel command line words read here:
#   vcmlab.host=NAME  vcmlab.ip=ADDR/PREFIX (hosts mode)  vcmlab.mode=oneshot|host
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
share=/vcm-lab

log() {
    local up='?' _
    read -r up _ < /proc/uptime 2> /dev/null || true
    echo "vcm-lab guest [$up]: $*" > /dev/console
}
halt_now() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 10
}
# PID 1 exiting panics the kernel; panic=1 with QEMU's -no-reboot ends QEMU at once.
die() { log "FATAL: $*"; echo "$*" > "$share/failed"; halt_now; exit 1; }

host='' ip='' mode=host
for w in $(cat /proc/cmdline); do
    case "$w" in
    vcmlab.host=*) host=${w#vcmlab.host=} ;;
    vcmlab.ip=*) ip=${w#vcmlab.ip=} ;;
    vcmlab.mode=*) mode=${w#vcmlab.mode=} ;;
    esac
done

# dev, proc and sys were moved here by the initramfs; the rest is private to this guest.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The host's /run shows through the lower layer (pid files, sockets of its daemons): hide it.
# /tmp stays visible (writes go to this guest's overlay): the source and build trees, as CI
# clones them, may live there, and guests run the scripts and the vcm binary from them.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock /run/lvm /run/sshd
mount -t configfs configfs /sys/kernel/config 2>/dev/null || true
ln -sf /proc/self/mounts /etc/mtab 2>/dev/null || true

[ -n "$host" ] || host=vcmlab
hostname "$host"
echo "$host" > /etc/hostname
{ echo "127.0.0.1 localhost"; echo "127.0.1.1 $host"; [ -f "$share/hosts" ] && cat "$share/hosts"; } > /etc/hosts

log "init started"
ip link set lo up
# Block and network drivers as modules; modprobe works since the modules are bound in.
modprobe -q virtio_blk || true
modprobe -q virtio_net || true
log "drivers loaded"

# LVM without udev (DESIGN §5): otherwise lvcreate fails to clear the new LV.
cat > /etc/lvm/lvmlocal.conf <<'LVM'
# Written by the vcm kernel lab guest init: no udev in these guests.
activation {
	udev_sync = 0
	udev_rules = 0
}
devices {
	obtain_device_list_from_udev = 0
}
LVM
# A host's devices file would name disks that do not exist here.
rm -f /etc/lvm/devices/system.devices

if [ "$mode" = oneshot ]; then
    log "running one-shot command"
    cwd=$(cat "$share/cwd" 2>/dev/null || echo /)
    cd "$cwd" 2>/dev/null || cd /
    bash "$share/cmd" > "$share/out" 2>&1 < /dev/null
    echo $? > "$share/rc.tmp" && mv "$share/rc.tmp" "$share/rc"
    cd /
    halt_now
fi

if [ -n "$ip" ]; then
    for _ in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
    ip link set eth0 up || die "no eth0"
    ip addr add "$ip" dev eth0 || die "cannot set $ip on eth0"
fi

# The host user's shell start-up files (pyenv and the like) cost tens of seconds
# per ssh command under TCG; guests use plain ones.
printf '# vcm kernel lab guest\n' > /root/.bashrc
printf '# vcm kernel lab guest\n[ -f ~/.bashrc ] && . ~/.bashrc\n' > /root/.profile
mkdir -p /root/.ssh
chmod 0700 /root/.ssh
cp "$share/authorized_keys" /root/.ssh/authorized_keys || die "no authorized_keys in the share"
chmod 0600 /root/.ssh/authorized_keys
# No PAM, motd or lastlog: each of them costs seconds per login under TCG.
/usr/sbin/sshd -o UseDNS=no -o UsePAM=no -o PrintMotd=no -o PrintLastLog=no \
    -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o MaxSessions=50 \
    -o MaxStartups=50 -E /var/log/sshd.log || die "sshd did not start"

if [ -f "$share/libvirtd" ]; then
    /bin/bash "$(dirname "$0")/start-libvirtd.sh" > /var/log/vcm-lab-libvirtd.log 2>&1 \
        || die "libvirtd did not start: $(tail -3 /var/log/vcm-lab-libvirtd.log)"
fi

log "host $host ready ($ip)"
cat /proc/uptime > "$share/ready"

# PID 1 must never exit; bash reaps re-parented orphans while it waits.
trap '' TERM INT
while :; do
    sleep 3600 &
    wait $!
done
