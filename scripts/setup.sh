#!/usr/bin/env bash
# Install what vcm needs to build and test on Debian 12, build it, and start libvirtd.
# Safe to run twice: installs only what is missing, rebuilds incrementally.
#   scripts/setup.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}

packages=(
  # build
  gcc clang cmake ninja-build pkg-config git
  libyaml-dev libjansson-dev libvirt-dev libxml2-dev libcmocka-dev libclang-rt-14-dev
  libgit2-dev libnl-3-dev libnl-route-3-dev libisofs-dev libcairo2-dev
  # run: libvirtd and QEMU (TCG), the tiny test guest
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils qemu-block-extra
  busybox-static cpio tzdata iproute2 kmod
  # the kernel lab: LVM, iSCSI, ssh between lab hosts
  lvm2 openssh-server openssh-client libiscsi-bin targetcli-fb dbus
  # tests
  python3 python3-jsonschema python3-yaml
  # benchmarks (bench/): peak RSS of whole processes
  time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start services (sshd, libvirtd) on their own: vcm's scripts start what
  # they need, the way they need it. A policy-rc.d of our own is removed again afterwards.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  rc=0
  { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } || rc=$?
  [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ "$rc" -eq 0 ] || { echo "setup: apt-get failed (exit $rc)" >&2; exit "$rc"; }
fi

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${VCM_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"

"$here/scripts/libvirtd-start.sh"
