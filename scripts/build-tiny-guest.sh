#!/bin/sh
# Build the tiny test guest: a Debian kernel (downloaded as a package and unpacked, never
# installed) and a busybox-static initramfs whose /init prints a VCM-GUEST-INIT line on ttyS0 and
# stays up. Output: /var/lib/vcm/images/tiny/{vmlinuz,initrd.img}. Idempotent: nothing is
# downloaded or rebuilt when the outputs exist.
#
# Boot it with cmdline "console=ttyS0 vcm.hostname=NAME"; the line printed is
#   VCM-GUEST-INIT hostname=NAME kernel=VERSION
set -eu

cache=${VCM_TINY_CACHE:-/var/cache/vcm/tiny}
out=${VCM_TINY_OUT:-/var/lib/vcm/images/tiny}

if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
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
root=$(mktemp -d "$cache/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/etc"
cp "$busybox" "$root/bin/busybox"
for applet in sh mount hostname cat sleep echo mkdir uname tr sed; do
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
while :; do sleep 3600; done
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.img.tmp"
cp "$vmlinuz" "$out/vmlinuz.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" >"$out/kernel-version"
