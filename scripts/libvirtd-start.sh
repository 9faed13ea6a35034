#!/bin/sh
# Prepare and start libvirtd on this machine without systemd (DESIGN.md §5). Idempotent: safe to
# run again while libvirtd is up; it then only checks that it answers.
set -eu

uri=qemu:///system

if virsh -c "$uri" version >/dev/null 2>&1; then
        exit 0
fi

mkdir -p /var/log/libvirt /var/lib/libvirt/qemu /var/cache/libvirt /var/log/vcm /run/libvirt

# The QEMU driver resolves this user and group before it reads qemu.conf.
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
        useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
                -g libvirt-qemu libvirt-qemu

# qemu.conf: set each key once, replacing a commented or earlier value.
conf=/etc/libvirt/qemu.conf
touch "$conf"
set_key() {
        key=$1 value=$2
        if grep -Eq "^[[:space:]]*#?[[:space:]]*${key}[[:space:]]*=" "$conf"; then
                # Replace only the first occurrence; drop later uncommented duplicates.
                awk -v k="$key" -v v="$value" '
                        BEGIN { done = 0 }
                        $0 ~ "^[[:space:]]*#?[[:space:]]*" k "[[:space:]]*=" {
                                if (!done) { print k " = " v; done = 1; next }
                                if ($0 !~ "^[[:space:]]*#") next
                        }
                        { print }' "$conf" >"$conf.vcm.tmp"
                mv "$conf.vcm.tmp" "$conf"
        else
                printf '%s = %s\n' "$key" "$value" >>"$conf"
        fi
}
set_key user '"root"'
set_key group '"root"'
set_key dynamic_ownership 0
set_key security_driver '"none"'

pgrep -x virtlogd >/dev/null || virtlogd -d
# A stale pid file from a killed daemon makes libvirtd refuse to start.
if ! pgrep -x libvirtd >/dev/null; then
        rm -f /run/libvirtd.pid
        libvirtd -d
fi

i=0
while ! virsh -c "$uri" version >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 100 ]; then
                echo "libvirtd-start: libvirtd did not answer on $uri after 20 s" >&2
                exit 1
        fi
        sleep 0.2
done
