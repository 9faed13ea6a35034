#!/bin/bash
# Start libvirtd inside a lab guest, on state private to this guest.
# The host's /etc/libvirt and /var/lib/libvirt show through the shared root; they
# are hidden behind tmpfs so the guest's libvirtd never sees the host's domains.
# Settings from DESIGN §5: root QEMU, no dynamic ownership, no security driver.
set -euo pipefail
if [ -S /run/libvirt/libvirt-sock ]; then
    echo "libvirtd already running"
    exit 0
fi
etc=$(mktemp -d)
find /etc/libvirt -maxdepth 1 -type f -exec cp -p {} "$etc/" \;
mount -t tmpfs -o mode=0755 tmpfs /etc/libvirt
cp -p "$etc"/* /etc/libvirt/ 2>/dev/null || true
rm -rf "$etc"
cat > /etc/libvirt/qemu.conf <<'CONF'
# vcm kernel lab guest
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
CONF
for d in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 tmpfs "$d"
done
mkdir -p /var/lib/libvirt/qemu /var/lib/libvirt/images /var/log/libvirt/qemu /run/libvirt
# The domains' serial logs (providers/libvirt/libvirt.h): a VM host's own setup when vcm
# reaches its libvirtd remotely (docs/install.md).
mkdir -p /var/log/vcm
getent passwd libvirt-qemu > /dev/null || { echo "user libvirt-qemu missing" >&2; exit 1; }
virtlogd -d
libvirtd -d
for _ in $(seq 300); do
    [ -S /run/libvirt/libvirt-sock ] && virsh -c qemu:///system version > /dev/null 2>&1 && exit 0
    sleep 0.2
done
echo "libvirtd did not answer within 60 s" >&2
exit 1
