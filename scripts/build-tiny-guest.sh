#!/bin/sh
# Build the tiny test guest: a Debian kernel (downloaded as a package and unpacked, never
# installed) and a busybox-static initramfs whose /init prints a VCM-GUEST-INIT line on ttyS0 and
# stays up. Output: /var/lib/vcm/images/tiny/{vmlinuz,initrd.img}. Idempotent: nothing is
# downloaded or rebuilt when the outputs exist.
#
# Boot it with cmdline "console=ttyS0 vcm.hostname=NAME"; the line printed is
#   VCM-GUEST-INIT hostname=NAME kernel=VERSION
# When a NoCloud seed disk (ISO 9660, label cidata) is attached, /init loads the virtio and isofs
# modules it carries, mounts the seed read-only and reports what it says, one line each:
#   VCM-SEED hostname=<local-hostname> appliance=<vcm-appliance> instance=<instance-id>
#   VCM-SEED key=<one ssh_authorized_keys entry>
#   VCM-SEED end keys=<count>
# (or "VCM-SEED none" when no seed disk is found).
set -eu

# Bump when /init or the modules change: an older initrd is rebuilt.
tiny_version=2

cache=${VCM_TINY_CACHE:-/var/cache/vcm/tiny}
out=${VCM_TINY_OUT:-/var/lib/vcm/images/tiny}

if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] &&
        [ "$(cat "$out/tiny-version" 2>/dev/null)" = "$tiny_version" ]; then
        exit 0
fi
mkdir -p "$cache" "$out"

busybox=/bin/busybox
if ! dpkg -s busybox-static >/dev/null 2>&1; then
        # busybox-static provides a statically linked /bin/busybox.
        apt-get install -y busybox-static >/dev/null
fi

# The kernel: the newest cloud flavour the archive offers (small, has 8250 serial built in).
kdir=$cache/kernel
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
                awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
        if [ -z "$pkg" ]; then
                echo "build-tiny-guest: cannot find the linux-image-cloud-amd64 dependency (apt-get update?)" >&2
                exit 1
        fi
        tmp=$(mktemp -d "$cache/dl.XXXXXX")
        (cd "$tmp" && apt-get -o APT::Sandbox::User=root download "$pkg" >/dev/null)
        rm -rf "$kdir.new"
        mkdir -p "$kdir.new"
        dpkg -x "$tmp"/*.deb "$kdir.new"
        rm -rf "$tmp" "$kdir"
        mv "$kdir.new" "$kdir"
fi
vmlinuz=$(find "$kdir/boot" -maxdepth 1 -name "vmlinuz-*" | sort | head -1)
kver=${vmlinuz##*/vmlinuz-}

# The initramfs.
mods="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk cdrom isofs"
root=$(mktemp -d "$cache/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/etc"
cp "$busybox" "$root/bin/busybox"
for applet in sh mount umount hostname cat sleep echo mkdir uname tr sed grep insmod ls head; do
        ln -s busybox "$root/bin/$applet"
done
cat >"$root/init" <<INIT
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null || true
name=unknown
for arg in \$(cat /proc/cmdline); do
        case "\$arg" in vcm.hostname=*) name=\${arg#vcm.hostname=} ;; esac
done
hostname "\$name"
echo "VCM-GUEST-INIT hostname=\$name kernel=\$(uname -r)" >/dev/console
echo "VCM-GUEST-INIT hostname=\$name kernel=\$(uname -r)" >/dev/ttyS0 2>/dev/null || true
say() { echo "\$*" >/dev/ttyS0 2>/dev/null || echo "\$*" >/dev/console; }
# The seed: virtio block devices, then the first one that mounts as ISO 9660 with a meta-data.
for m in $mods; do insmod /lib/modules/\$m.ko 2>/dev/null || true; done
sleep 1
mkdir -p /seed
found=
for dev in /dev/vd* /dev/sr*; do
        [ -b "\$dev" ] || continue
        if mount -t iso9660 -o ro "\$dev" /seed 2>/dev/null; then
                if [ -f /seed/meta-data ]; then found=\$dev; break; fi
                umount /seed 2>/dev/null || true
        fi
done
if [ -n "\$found" ]; then
        md() { sed -n "s/^\$1: *//p" /seed/meta-data | head -1; }
        fqdn=\$(md local-hostname)
        [ -n "\$fqdn" ] && hostname "\$fqdn"
        say "VCM-SEED hostname=\$(hostname) appliance=\$(md vcm-appliance) instance=\$(md instance-id) device=\$found"
        n=0
        # ssh_authorized_keys entries: '  - "KEY"' lines right after the key, quotes removed.
        sed -n '/^ssh_authorized_keys:/,/^[^ ]/p' /seed/user-data | sed -n 's/^  - "\\(.*\\)"\$/\\1/p' >/tmp/keys
        while read -r key; do n=\$((n + 1)); say "VCM-SEED key=\$key"; done </tmp/keys
        say "VCM-SEED end keys=\$n"
else
        say "VCM-SEED none"
fi
while :; do sleep 3600; done
INIT
chmod 755 "$root/init"
# Modules for the seed disk, in load order (dependencies first), flat in /lib/modules.
mkdir -p "$root/lib/modules"
for m in $mods; do
        f=$(find "$kdir/lib/modules/$kver" -name "$m.ko" | head -1)
        if [ -z "$f" ]; then
                echo "build-tiny-guest: module $m not found in $kver" >&2
                exit 1
        fi
        cp "$f" "$root/lib/modules/$m.ko"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.img.tmp"
cp "$vmlinuz" "$out/vmlinuz.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" >"$out/kernel-version"
echo "$tiny_version" >"$out/tiny-version"
