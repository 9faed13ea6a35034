#!/bin/sh
# Run a libvirtd-tier test program: start libvirtd and build the tiny guest (both idempotent),
# skip (77) only when QEMU cannot run guests at all here.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the libvirtd tier needs root (it starts libvirtd and QEMU guests)" >&2
        exit 77
fi
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v libvirtd >/dev/null; then
        echo "SKIP: qemu-system-x86_64 or libvirtd is not installed" >&2
        exit 77
fi
"$src/scripts/libvirtd-start.sh"
if ! virsh -c qemu:///system domcapabilities --virttype qemu --arch x86_64 >/dev/null 2>&1; then
        echo "SKIP: libvirt cannot run QEMU (TCG) guests on this machine" >&2
        exit 77
fi
"$src/scripts/build-tiny-guest.sh"
exec "$@"
